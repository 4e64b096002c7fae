import Foundation
import Testing
import Engine
@testable import Workbench

@Suite struct RunControlTests {
    @Test func gateHandsOutQueuedStepsWhilePaused() {
        let gate = RunGate(paused: true)
        gate.stepForward()
        gate.stepBack()
        #expect(gate.next() == .forward)
        #expect(gate.next() == .back)
        gate.stop()
        #expect(gate.next() == nil)
        #expect(gate.isStopped)
    }

    @Test func runningGateKeepsGoingUntilPaused() {
        let gate = RunGate(paused: false)
        #expect(gate.next() == .forward)
        #expect(gate.next() == .forward)
        gate.pause()
        #expect(!gate.isRunning)
        gate.stepForward()
        #expect(gate.next() == .forward)
        gate.resume()
        #expect(gate.isRunning)
    }

    @Test func stopWakesAWaitingRunThread() async {
        let gate = RunGate(paused: true)
        let finished = LockedBox(false)
        let thread = Thread {
            while gate.next() != nil {}
            finished.set(true)
        }
        thread.start()
        gate.stop()
        #expect(await eventually { finished.get() })
    }

    @Test func mailboxDropsEventsOfReplacedRuns() {
        let mailbox = EventMailbox()
        let old = mailbox.makeSink(for: .a)
        let b = mailbox.makeSink(for: .b)
        old.post(.finished("old, not drained before its run was replaced"))
        let new = mailbox.makeSink(for: .a)
        #expect(!old.isCurrent && new.isCurrent && b.isCurrent)
        old.post(.finished("old"))
        new.post(.finished("new"))
        b.post(.finished("b, not drained before its run was stopped"))
        mailbox.retire(.b)
        b.post(.finished("late b"))
        let b2 = mailbox.makeSink(for: .b)
        b2.post(.finished("b2"))
        let events = mailbox.drain().map { "\($0.0.label) \($0.1)" }
        #expect(events == ["A finished(\"new\")", "B finished(\"b2\")"])
        #expect(mailbox.drain().isEmpty)
        mailbox.requestQuit("SIGTERM")
        mailbox.requestQuit("SIGHUP")
        #expect(mailbox.quitRequest == "SIGTERM", "the first reason wins")
    }
}

/// A tiny lock-protected box for values shared with threads in tests.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: Value) { lock.lock(); value = v; lock.unlock() }
    func update(_ change: (inout Value) -> Void) { lock.lock(); change(&value); lock.unlock() }
}

/// Polls `condition` until it holds or a generous deadline passes (a hang guard, not a
/// timing assertion).
func eventually(within seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return condition()
}
