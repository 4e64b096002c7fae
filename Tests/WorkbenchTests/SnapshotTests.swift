import Testing
@testable import Workbench

@Suite struct SnapshotTests {
    @Test func overviewAt80x24() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        engine.emit(40)
        bench.pump()
        let s = Harness.screen(bench)
        print(s.text())
        Snapshot.check(s, named: "overview-80x24")
    }
}
