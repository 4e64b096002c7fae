import Foundation

/// The run controls (resume, pause, single-step, step back, stop) as a small state machine
/// that a run's thread waits on. An engine that makes one token per loop iteration uses it
/// as its `EngineRun`:
///
///     let gate = RunGate(paused: paused)
///     Thread { while let move = gate.next() { ... make or take back one token ... } }.start()
///     return gate
public final class RunGate: EngineRun, @unchecked Sendable {
    public enum Move: Sendable, Equatable { case forward, back }

    private let condition = NSCondition()
    private var running: Bool
    private var queued: [Move] = []
    private var stopped = false
    private var lastForward: Date?

    public init(paused: Bool) {
        running = !paused
    }

    public func resume() { update { $0.running = true; $0.queued.removeAll() } }
    public func pause() { update { $0.running = false } }
    public func stepForward() { update { $0.running = false; $0.queued.append(.forward) } }
    public func stepBack() { update { $0.running = false; $0.queued.append(.back) } }
    public func stop() { update { $0.stopped = true } }

    public var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    public var isRunning: Bool {
        condition.lock(); defer { condition.unlock() }
        return running && !stopped
    }

    /// Pauses from the run's side (e.g. at the end of a replay), keeping queued steps.
    public func pauseFromRun() { update { $0.running = false } }

    /// Blocks the run's thread until it may make its next move; nil once stopped. While
    /// running, forward moves come at most one per `interval` seconds (replay pacing);
    /// single steps are never delayed.
    public func next(interval: TimeInterval = 0) -> Move? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped { return nil }
            if !queued.isEmpty {
                let move = queued.removeFirst()
                if move == .forward { lastForward = Date() }
                return move
            }
            if running {
                let due = lastForward.map { $0.addingTimeInterval(interval) } ?? .distantPast
                if interval <= 0 || due <= Date() {
                    lastForward = Date()
                    return .forward
                }
                _ = condition.wait(until: due)
            } else {
                condition.wait()
            }
        }
    }

    private func update(_ change: (RunGate) -> Void) {
        condition.lock()
        change(self)
        condition.broadcast()
        condition.unlock()
    }
}
