import Foundation
import Testing
import Engine
@testable import Workbench

/// Keys drive the state and the engine: each test types a sequence and checks what the
/// workbench did, through its state and the fake engine's record of calls.
@Suite struct KeySequenceTests {
    @Test func archCommandRestartsWithSamePromptAndSeed() throws {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        engine.emit(20)
        bench.pump()
        let depthsBefore = bench.state.runs[0].tokens.map(\.depth)
        Harness.type(bench, ":arch mor threshold=0.7\n")
        engine.emit(20)
        bench.pump()

        let started = engine.started
        #expect(started.count == 2)
        #expect(started[1].settings.architecture == "mor threshold=0.7")
        #expect(started[1].settings.prompt == started[0].settings.prompt)
        #expect(started[1].settings.sampler.seed == started[0].settings.sampler.seed)
        #expect(engine.run()?.calls.isEmpty == true)
        #expect(bench.state.runs[0].info?.routing.contains("0.70") == true)
        let depthsAfter = bench.state.runs[0].tokens.map(\.depth)
        #expect(depthsAfter.count == depthsBefore.count)
        #expect(depthsAfter != depthsBefore, "a higher threshold must stop some tokens earlier")
        #expect(depthsAfter.reduce(0, +) < depthsBefore.reduce(0, +))
    }

    @Test func oldRunIsStoppedAndItsLateTokensAreDropped() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        let first = engine.run()
        Harness.type(bench, ":arch vanilla\n")
        #expect(first?.calls.contains("stop") == true)
        first?.emit(5)  // a stopped run still posting must not reach the screen
        bench.pump()
        #expect(bench.state.runs[0].tokens.isEmpty)
        engine.emit(3)
        bench.pump()
        #expect(bench.state.runs[0].tokens.count == 3)
        #expect(bench.state.runs[0].tokens.allSatisfy { $0.depth == 4 })
    }

    @Test func spacePausesAndResumesAndNSteps() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        #expect(bench.state.runs[0].status == .running)
        Harness.press(bench, [.key(.char(" "))])
        #expect(bench.state.paused)
        #expect(bench.state.runs[0].status == .paused)
        Harness.press(bench, [.key(.char("n")), .key(.char("n"))])
        #expect(bench.state.runs[0].tokens.count == 2)
        Harness.press(bench, [.key(.char("N"))])
        #expect(bench.state.runs[0].tokens.count == 1)
        Harness.press(bench, [.key(.char(" "))])
        #expect(!bench.state.paused)
        #expect(engine.run()?.calls == ["pause", "step", "step", "back", "resume"])
    }

    @Test func newRunsStartPausedWhenPaused() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.press(bench, [.key(.char(" ")), .key(.char("r"))])
        #expect(engine.started.last?.paused == true)
        #expect(bench.state.runs[0].status == .paused)
    }

    @Test func digitKeysTogglePanesAndOneStaysVisible() {
        let bench = Harness.workbench()
        #expect(bench.state.visible == Set(PaneID.allCases))
        Harness.type(bench, "3")
        #expect(!bench.state.visible.contains(.attention))
        Harness.type(bench, "3")
        #expect(bench.state.visible.contains(.attention))
        #expect(bench.state.focus == .attention)
        Harness.type(bench, "12456")
        #expect(bench.state.visible == [.attention])
        Harness.type(bench, "3")
        #expect(bench.state.visible == [.attention], "the last pane cannot be hidden")
        #expect(bench.state.message != nil)
        Harness.type(bench, "9")
        #expect(bench.state.message?.text.contains("no such key") == true)
    }

    @Test func presetsCycleForwardAndBack() {
        let bench = Harness.workbench()
        Harness.type(bench, "p")
        #expect(bench.state.preset == 1)
        #expect(bench.state.visible == Layouts.presets[1].visible)
        Harness.type(bench, "PP")
        #expect(bench.state.preset == Layouts.presets.count - 1)
    }

    @Test func tabMovesFocusAndEExpands() {
        let bench = Harness.workbench()
        #expect(bench.state.focus == .stream)
        Harness.press(bench, [.key(.tab), .key(.tab)])
        #expect(bench.state.focus == .attention)
        Harness.press(bench, [.key(.backTab)])
        #expect(bench.state.focus == .depth)
        Harness.type(bench, "e")
        #expect(bench.state.expanded)
        let frames = Layouts.frames(preset: bench.state.preset, visible: bench.state.visible, comparing: false,
                                    expanded: bench.state.focus, in: Rect(x: 0, y: 1, width: 80, height: 22))
        #expect(frames.map(\.pane) == [.depth])
        Harness.type(bench, "e")
        #expect(!bench.state.expanded)
    }

    @Test func cursorMovesByTokenAndLineAndFollows() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        engine.emit(30)
        bench.pump()
        _ = Harness.screen(bench)  // the stream layout decides what a line is
        #expect(bench.state.cursor == nil)
        #expect(bench.state.selected == 29)
        Harness.press(bench, [.key(.left), .key(.char("h"))])
        #expect(bench.state.cursor == 27)
        Harness.type(bench, "g")
        #expect(bench.state.selected == 0)
        Harness.press(bench, [.key(.char("j"))])
        _ = Harness.screen(bench)
        // Line 0 is "ROMEO:↵", so one line down lands on "B" of the next line.
        #expect(bench.state.cursor == 7)
        Harness.press(bench, [.key(.up)])
        #expect(bench.state.cursor == 0)
        Harness.press(bench, [.key(.end)])
        #expect(bench.state.cursor == nil)
        engine.emit(1)
        bench.pump()
        #expect(bench.state.selected == 30, "following the newest token")
    }

    @Test func attentionKeysChooseStepHeadAndView() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        engine.emit(12)
        bench.pump()
        Harness.type(bench, "[")
        let last = bench.state.runs[0].tokens[11].steps.last?.step ?? 0
        #expect(bench.state.attention.step == max(0, last - 1))
        Harness.type(bench, "]]]]]]")
        #expect(bench.state.attention.step == 3, "clamped to the deepest step")
        Harness.type(bench, ">")
        #expect(bench.state.attention.head == 1)
        Harness.type(bench, ">")
        #expect(bench.state.attention.head == 0, "wraps over the two heads")
        Harness.type(bench, "v")
        #expect(bench.state.attention.matrix)
    }

    @Test func helpOpensAndAnyKeyClosesIt() {
        let bench = Harness.workbench()
        Harness.type(bench, "?")
        #expect(bench.state.overlay == .help(page: 0))
        Harness.type(bench, "j")
        #expect(bench.state.overlay == .help(page: 1))
        Harness.type(bench, "q")
        #expect(bench.state.overlay == nil)
        #expect(!bench.state.shouldQuit, "q closes help before it quits")
        Harness.type(bench, "q")
        #expect(bench.state.shouldQuit)
    }

    @Test func ctrlCQuitsFromAnywhere() {
        let bench = Harness.workbench()
        Harness.type(bench, ":arc")
        Harness.press(bench, [.key(.control("c"))])
        #expect(bench.state.shouldQuit)
    }

    @Test func paletteErrorsAreShownNotThrown() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, ":frobnicate\n")
        #expect(bench.state.message?.isError == true)
        #expect(bench.state.message?.text.contains("unknown command") == true)
        Harness.type(bench, ":sample temperature=hot\n")
        #expect(bench.state.message?.text.contains("temperature=hot") == true)
        #expect(engine.started.count == 1, "nothing restarted")
    }

    @Test func engineFailureIsShownInTheUI() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, ":arch nonsense\n")
        #expect(bench.state.runs[0].status == .failed("unknown architecture \"nonsense\" (known: mor, vanilla)"))
        #expect(bench.state.message?.isError == true)
        let screen = Harness.screen(bench).text()
        #expect(screen.contains("unknown architecture"))
    }

    @Test func paletteTabCompletesAndEscapeCancels() {
        let bench = Harness.workbench()
        Harness.type(bench, ":the")
        Harness.press(bench, [.key(.tab)])
        #expect(bench.state.overlay == .palette(TextField("theme ")))
        Harness.press(bench, [.key(.escape)])
        #expect(bench.state.overlay == nil)
    }

    @Test func samplingKeyPrefillsEverySettingAndAppliesToBothRuns() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, ":compare vanilla\n")
        Harness.type(bench, "s")
        guard case let .palette(field)? = bench.state.overlay else {
            Issue.record("s should open the palette")
            return
        }
        #expect(field.text == "sample temperature=0.8 top_k=0 top_p=1 min_p=0 repetition_penalty=1 seed=42 max_tokens=400")
        Harness.press(bench, [.key(.control("u"))])
        Harness.type(bench, "seed 7\n")
        #expect(bench.state.runs.map(\.settings.sampler.seed) == [7, 7])
        let restarted = engine.started.suffix(2)
        #expect(restarted.map(\.slot) == [.a, .b])
        #expect(restarted.allSatisfy { $0.settings.sampler.seed == 7 })
    }

    @Test func promptEditorAppliesWithEnterAndTakesNewlines() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, "i")
        Harness.press(bench, [.key(.control("u"))])
        Harness.type(bench, "JULIET:")
        Harness.press(bench, [.key(.control("j")), .key(.enter)])
        #expect(bench.state.overlay == nil)
        #expect(engine.started.last?.settings.prompt == "JULIET:\n")
    }

    /// Ctrl-T in the prompt editor makes the prompt a chat message (the model's chat
    /// template renders it); the flag goes to every run and stays until toggled back.
    @Test func promptEditorTogglesChat() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, "i")
        Harness.press(bench, [.key(.control("u"))])
        Harness.type(bench, "Who are you?")
        Harness.press(bench, [.key(.control("t"))])
        #expect(bench.state.overlay == .promptEditor(TextField("Who are you?"), chat: true))
        Harness.press(bench, [.key(.enter)])
        #expect(engine.started.last?.settings.prompt == "Who are you?" && engine.started.last?.settings.chat == true)
        Harness.type(bench, "i")
        Harness.press(bench, [.key(.control("t")), .key(.enter)])
        #expect(engine.started.last?.settings.chat == false)
    }

    @Test func pickersSwitchModelAndArchitecture() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, "m")
        #expect(bench.state.overlay == .picker(Picker(kind: .model, items: engine.models(), selected: "shakespeare-mor")))
        Harness.press(bench, [.key(.down), .key(.enter)])
        #expect(engine.started.last?.settings.model == "shakespeare-vanilla")
        #expect(engine.started.last?.settings.architecture == "", "a new model starts on its own architecture")
        Harness.type(bench, "a")
        Harness.press(bench, [.key(.char("j")), .key(.enter)])
        #expect(engine.started.last?.settings.architecture == "vanilla")
        #expect(engine.started.last?.settings.model == "shakespeare-vanilla", "the model stays")
        Harness.type(bench, "a")
        Harness.press(bench, [.key(.char("k")), .key(.escape)])
        #expect(engine.started.last?.settings.architecture == "vanilla", "Esc changes nothing")
    }

    @Test func modelCommandDropsTheArchitectureUnlessOneIsNamedAfter() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        bench.execute("arch mor threshold=0.6")
        #expect(engine.started.last?.settings.architecture == "mor threshold=0.6")
        bench.execute("model shakespeare-vanilla")
        #expect(engine.started.last?.settings.model == "shakespeare-vanilla")
        #expect(engine.started.last?.settings.architecture == "", "the checkpoint's own, not mor")
        bench.execute("arch recursive")
        #expect(engine.started.last?.settings.model == "shakespeare-vanilla")
        #expect(engine.started.last?.settings.architecture == "recursive")
    }

    @Test func compareTogglesASecondRunOnTheSamePromptAndSeed() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, "c")
        guard case let .palette(field)? = bench.state.overlay else {
            Issue.record("c should open the palette with the current spec")
            return
        }
        #expect(field.text == "compare mor threshold=0.50")
        Harness.press(bench, [.key(.backspace), .key(.backspace)])
        Harness.type(bench, "8\n")
        #expect(bench.state.isComparing)
        let b = engine.started.last
        #expect(b?.slot == .b)
        #expect(b?.settings.architecture == "mor threshold=0.8")
        #expect(b?.settings.prompt == engine.started[0].settings.prompt)
        #expect(b?.settings.sampler.seed == engine.started[0].settings.sampler.seed)
        engine.emit(10, slot: .a)
        engine.emit(10, slot: .b)
        bench.pump()
        #expect(bench.state.runs[1].tokens.count == 10)
        Harness.type(bench, "c")
        #expect(!bench.state.isComparing)
        #expect(engine.run(.b)?.calls.contains("stop") == true)
    }

    @Test func replayEngineRefusesPromptAndSampling() {
        let engine = FakeEngine(capabilities: [.stepBack])
        let bench = Harness.workbench(engine: engine)
        Harness.type(bench, "i")
        #expect(bench.state.overlay == nil)
        #expect(bench.state.message?.text.contains("fixed") == true)
        Harness.type(bench, "m")
        #expect(bench.state.overlay == nil)
    }

    @Test func saveWritesTheTraceAsJSONLines() throws {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        engine.emit(15)
        bench.pump()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("depthscope-save-\(getpid()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        Harness.type(bench, ":save \(path)\n")
        #expect(bench.state.message?.isError == false)
        let read = try TraceFile.read(path)
        #expect(read == bench.state.runs[0].tokens)
        Harness.type(bench, ":save /nonexistent-dir/x.jsonl\n")
        #expect(bench.state.message?.isError == true)
        #expect(bench.state.message?.text.contains("/nonexistent-dir/x.jsonl") == true)
    }

    @Test func themeKeyCyclesShippedThemesAndBadNamesAreErrors() {
        let bench = Harness.workbench()
        Harness.type(bench, ":theme gruvbox\n")
        #expect(bench.palette.theme.name == "gruvbox")
        #expect(bench.palette.color(.mainBackground) == .rgb(0x28, 0x28, 0x28))
        Harness.type(bench, "t")
        #expect(bench.palette.theme.name == "light", "names are sorted: gruvbox, then light")
        Harness.type(bench, ":theme nope\n")
        #expect(bench.state.message?.isError == true)
        #expect(bench.palette.theme.name == "light")
    }

    @Test func mouseClickSelectsTokenAndWheelMovesAndNoMouseIgnoresIt() {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        engine.emit(20)
        bench.pump()
        _ = Harness.screen(bench)
        // Stream box at (0,1); its text starts at (1,2): "ROMEO:↵" then "But soft…".
        Harness.press(bench, [.mouse(MouseEvent(.press, x: 3, y: 3))])
        #expect(bench.state.cursor == 9)
        #expect(bench.state.focus == .stream)
        Harness.press(bench, [.mouse(MouseEvent(.wheelUp, x: 3, y: 3))])
        #expect(bench.state.cursor == 2)
        // A bar in the depth pane (box at row 11, step axis 2 columns wide) selects its token.
        Harness.press(bench, [.mouse(MouseEvent(.press, x: 1 + 2 + 5, y: 14))])
        #expect(bench.state.cursor == 5)
        #expect(bench.state.focus == .depth)

        var options = WorkbenchOptions()
        options.mouse = false
        let quiet = Harness.workbench(engine: FakeEngine(), options: options)
        _ = Harness.screen(quiet)
        Harness.press(quiet, [.mouse(MouseEvent(.press, x: 60, y: 3))])
        #expect(quiet.state.focus == .stream)
    }
}
