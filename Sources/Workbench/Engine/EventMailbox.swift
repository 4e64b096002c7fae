import Foundation

/// Which of the (at most two) runs an event belongs to: A, and B in compare mode.
public enum RunSlot: Int, Sendable, CaseIterable {
    case a = 0, b = 1
    public var label: String { self == .a ? "A" : "B" }
}

/// Hands events from run threads to the UI thread. Posting takes a lock only long enough
/// to append, so a slow frame never holds up generation; the UI drains everything once
/// per frame, which coalesces fast tokens into one redraw. Each new run gets a new
/// generation number per slot, and events from superseded runs are dropped: those posted
/// after the run was replaced, and those it posted before but the UI had not drained yet.
public final class EventMailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [(RunSlot, RunEvent)] = []
    private var generations = [0, 0]
    private var quitReason: String?

    public init() {}

    /// A sink for a new run in `slot`; every earlier sink of that slot goes dead.
    public func makeSink(for slot: RunSlot) -> RunSink {
        lock.lock(); defer { lock.unlock() }
        generations[slot.rawValue] += 1
        events.removeAll { $0.0 == slot }
        return RunSink(mailbox: self, slot: slot, generation: generations[slot.rawValue])
    }

    /// Makes every sink of `slot` dead (the run there was stopped and not replaced).
    public func retire(_ slot: RunSlot) {
        lock.lock(); defer { lock.unlock() }
        generations[slot.rawValue] += 1
        events.removeAll { $0.0 == slot }
    }

    fileprivate func post(_ event: RunEvent, slot: RunSlot, generation: Int) {
        lock.lock(); defer { lock.unlock() }
        guard generations[slot.rawValue] == generation else { return }
        events.append((slot, event))
    }

    fileprivate func isCurrent(slot: RunSlot, generation: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return generations[slot.rawValue] == generation
    }

    /// Everything posted since the last drain, in order.
    public func drain() -> [(RunSlot, RunEvent)] {
        lock.lock(); defer { lock.unlock() }
        let out = events
        events.removeAll(keepingCapacity: true)
        return out
    }

    /// Asks the UI loop to restore the terminal and quit (used by signal handlers).
    public func requestQuit(_ reason: String) {
        lock.lock(); defer { lock.unlock() }
        if quitReason == nil { quitReason = reason }
    }

    public var quitRequest: String? {
        lock.lock(); defer { lock.unlock() }
        return quitReason
    }
}

/// Where one run reports its events. Cheap to copy and to call from any thread.
public struct RunSink: Sendable {
    private let mailbox: EventMailbox
    public let slot: RunSlot
    private let generation: Int

    fileprivate init(mailbox: EventMailbox, slot: RunSlot, generation: Int) {
        self.mailbox = mailbox
        self.slot = slot
        self.generation = generation
    }

    public func post(_ event: RunEvent) {
        mailbox.post(event, slot: slot, generation: generation)
    }

    /// False once the workbench has replaced or stopped this run; a run may check it to
    /// stop early.
    public var isCurrent: Bool { mailbox.isCurrent(slot: slot, generation: generation) }
}
