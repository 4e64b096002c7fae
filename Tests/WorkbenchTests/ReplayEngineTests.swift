import Foundation
import Testing
import Engine
@testable import Workbench

@Suite struct ReplayEngineTests {
    static let paths = [RecordedTraceTests.path("shakespeare-mor"), RecordedTraceTests.path("shakespeare-vanilla")]

    @Test func loadsRecordingsAsArchitectures() throws {
        let engine = try ReplayEngine.load(paths: Self.paths, tokensPerSecond: 1000)
        #expect(engine.architectures().map(\.name) == ["shakespeare-mor", "shakespeare-vanilla"])
        #expect(engine.capabilities == [.stepBack])
        #expect(engine.models().isEmpty)
        #expect(engine.initialSettings.architecture == "shakespeare-mor")
        #expect(engine.initialSettings.prompt == RecordedTraceTests.prompt)
        let info = ReplayEngine.describe(engine.recordings[0])
        #expect(info.routing == "sigmoid_router · threshold 0.50")
        #expect(info.maxDepth == 8)  // 4 layers, middle_cycle, 3 recursions: 1 + 2 x 3 + 1
        #expect(ReplayEngine.describe(engine.recordings[1]).routing == "full depth")
    }

    @Test func badInputIsOneLine() {
        #expect(throws: EngineError("replay: no trace file given")) { try ReplayEngine.load(paths: [], tokensPerSecond: 1) }
        #expect(throws: EngineError("replay: --speed 0.0 must be a positive number of tokens per second")) {
            try ReplayEngine.load(paths: Self.paths, tokensPerSecond: 0)
        }
        #expect(throws: EngineError("/nope.jsonl: no such trace file")) {
            try ReplayEngine.load(paths: ["/nope.jsonl"], tokensPerSecond: 1)
        }
    }

    @Test func playsEveryTokenThenFinishes() async throws {
        let engine = try ReplayEngine.load(paths: Self.paths, tokensPerSecond: 2000)
        let bench = Workbench(engine: engine, settings: engine.initialSettings, options: WorkbenchOptions(),
                              palette: Harness.palette(), themes: Harness.themes)
        bench.start()
        defer { bench.shutdown() }
        let expected = engine.recordings[0].traces
        #expect(await eventually { bench.pump(); return bench.state.runs[0].status == .finished("end of trace") })
        #expect(bench.state.runs[0].tokens == expected)
        #expect(bench.state.runs[0].info?.architecture == "shakespeare-mor")
    }

    @Test func pausedReplayShowsThePromptAndStepsBothWays() async throws {
        let engine = try ReplayEngine.load(paths: Self.paths, tokensPerSecond: 2000)
        var options = WorkbenchOptions()
        options.startPaused = true
        let bench = Workbench(engine: engine, settings: engine.initialSettings, options: options,
                              palette: Harness.palette(), themes: Harness.themes)
        bench.start()
        defer { bench.shutdown() }
        let promptCount = RecordedTraceTests.prompt.count
        #expect(await eventually { bench.pump(); return bench.state.runs[0].tokens.count == promptCount })
        Harness.type(bench, "nnn")
        #expect(await eventually { bench.pump(); return bench.state.runs[0].tokens.count == promptCount + 3 })
        Harness.type(bench, "N")
        #expect(await eventually { bench.pump(); return bench.state.runs[0].tokens.count == promptCount + 2 })
        #expect(bench.state.runs[0].status == .paused)
    }

    @Test func switchingRecordingAndComparing() async throws {
        let engine = try ReplayEngine.load(paths: Self.paths, tokensPerSecond: 2000)
        let bench = Workbench(engine: engine, settings: engine.initialSettings, options: WorkbenchOptions(),
                              palette: Harness.palette(), themes: Harness.themes)
        bench.start()
        defer { bench.shutdown() }
        Harness.type(bench, ":arch shakespeare-vanilla\n")
        // The first recording may have posted tokens the UI has not drained when the switch
        // lands; none of them may reach the new run.
        #expect(await eventually {
            bench.pump()
            return bench.state.runs[0].info?.architecture == "shakespeare-vanilla" && bench.state.runs[0].status == .finished("end of trace")
        })
        #expect(bench.state.runs[0].tokens.allSatisfy { $0.depth == 6 })  // its 6 layers
        Harness.type(bench, ":compare shakespeare-mor\n")
        #expect(await eventually { bench.pump(); return bench.state.runs.count == 2 && bench.state.runs[1].tokens.count == 7 + 44 })
        Harness.type(bench, ":arch shakespeare-mor threshold=0.6\n")
        #expect(await eventually { bench.pump(); return bench.state.runs[0].status.label == "error" })
        #expect(bench.state.message?.text.contains("cannot change its options") == true)
    }
}
