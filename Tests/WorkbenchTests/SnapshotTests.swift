import Testing
@testable import Workbench

/// Panes rendered into the in-memory grid and compared with golden files in
/// Tests/WorkbenchTests/Snapshots (see `Snapshot` for how to update them).
@Suite struct SnapshotTests {
    /// A workbench on the fake engine with `tokens` tokens received.
    func bench(tokens: Int = 40, options: WorkbenchOptions = WorkbenchOptions(),
               palette: Palette = Harness.palette()) -> (Workbench, FakeEngine) {
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine, options: options, palette: palette)
        engine.emit(tokens)
        bench.pump()
        return (bench, engine)
    }

    @Test func overviewAt80x24() {
        let (b, _) = bench()
        Snapshot.check(Harness.screen(b), named: "overview-80x24")
    }

    @Test func everyPresetAt80x24() {
        for preset in 1..<Layouts.presets.count {
            let (b, _) = bench()
            b.execute("preset \(preset + 1)")
            Snapshot.check(Harness.screen(b), named: "preset-\(Layouts.presets[preset].name)-80x24")
        }
    }

    @Test func selectedTokenDrivesDepthAttentionAndInspector() {
        let (b, _) = bench()
        _ = Harness.screen(b)
        Harness.type(b, "g")
        Harness.press(b, [.key(.down)])
        Harness.type(b, "llll[")
        Snapshot.check(Harness.screen(b), named: "cursor-80x24")
    }

    @Test func expandedPanes() {
        for (key, name) in [(1, "depth"), (2, "attention"), (3, "inspector"), (4, "throughput"), (5, "model")] {
            let (b, _) = bench()
            for _ in 0..<key { Harness.press(b, [.key(.tab)]) }
            Harness.type(b, "e")
            Snapshot.check(Harness.screen(b), named: "expanded-\(name)-80x24")
        }
    }

    @Test func pacedRunShowsTheEngineRateAndThePace() {
        let free = Harness.workbench(engine: FakeEngine())
        let paced = FakeEngine(paced: 10)
        let b = Harness.workbench(engine: paced)
        paced.emit(40)
        b.pump()
        let screen = Harness.screen(b).text()
        #expect(screen.contains("tok/s engine"), "\(screen)")
        #expect(screen.contains("10/s paced"), "\(screen)")
        #expect(!Harness.screen(free).text().contains("paced"))
    }

    /// After a context shift a token's attention row covers only the newest keys: the pane
    /// must name the tokens those weights belong to, not the first tokens of the text.
    @Test func attentionAfterAContextShiftNamesTheRightTokens() throws {
        let window = 8
        let engine = FakeEngine(attentionWindow: window)
        let b = Harness.workbench(engine: engine)
        engine.emit(40)
        b.pump()
        Harness.type(b, "33e")  // hide and show attention (focuses it), expand it
        let text = Harness.screen(b).text()
        let tokens = Array(SyntheticTraces.samplePrompt + SyntheticTraces.sampleText)
        let named = try Regex(#"'(.)' *@(\d+)"#)
        var checked = 0
        for match in text.matches(of: named) {
            guard let char = match.output[1].substring, let position = match.output[2].substring.flatMap({ Int($0) })
            else { continue }
            #expect(position >= 40 - window && position < 40, "\(position) is outside the window\n\(text)")
            if position < tokens.count { #expect(String(tokens[position]) == String(char), "\(text)") }
            checked += 1
        }
        #expect(checked > 0, "no attended tokens named\n\(text)")
    }

    @Test func attentionMatrixView() {
        let (b, _) = bench()
        Harness.type(b, "33v")  // hide and show attention (focuses it), then the matrix view
        Harness.type(b, "e")
        Snapshot.check(Harness.screen(b), named: "attention-matrix-80x24")
    }

    @Test func sparklineStyles() {
        for style in SparklineStyle.allCases {
            var options = WorkbenchOptions()
            options.sparkline = style
            let (b, _) = bench(options: options)
            Harness.type(b, "55")  // focus throughput
            Harness.type(b, "e")
            Snapshot.check(Harness.screen(b, width: 60, height: 16), named: "sparkline-\(style.rawValue)-60x16")
        }
    }

    @Test func compareAt80x24() {
        let (b, engine) = bench(tokens: 0)
        Harness.type(b, ":compare mor threshold=0.8\n")
        engine.emit(35, slot: .a)
        engine.emit(35, slot: .b)
        b.pump()
        Harness.press(b, [.key(.escape)])
        Snapshot.check(Harness.screen(b), named: "compare-80x24")
    }

    @Test func overlays() {
        let (help, _) = bench()
        Harness.type(help, "?")
        Snapshot.check(Harness.screen(help), named: "help-80x24")

        let (palette, _) = bench()
        Harness.type(palette, ":arch mor thr")
        Snapshot.check(Harness.screen(palette), named: "palette-80x24")

        let (picker, _) = bench()
        Harness.type(picker, "a")
        Snapshot.check(Harness.screen(picker), named: "picker-80x24")

        let (prompt, _) = bench()
        Harness.type(prompt, "i")
        Harness.type(prompt, "O Romeo")
        Snapshot.check(Harness.screen(prompt), named: "prompt-editor-80x24")
    }

    @Test func tooSmallSaysSo() {
        let (b, _) = bench()
        let s = Harness.screen(b, width: 50, height: 12)
        #expect(s.text().contains("terminal too small: 50x12"))
        Snapshot.check(s, named: "too-small-50x12")
    }

    @Test func monochromeAscii() {
        let (b, _) = bench(palette: Harness.palette(.monochrome, glyphs: .ascii))
        Snapshot.check(Harness.screen(b), named: "mono-ascii-80x24")
    }

    @Test func largeTerminal() {
        let (b, _) = bench(tokens: 50)
        Snapshot.check(Harness.screen(b, width: 132, height: 43), named: "overview-132x43")
    }

    @Test func emptyRunBeforeTheFirstToken() {
        let (b, _) = bench(tokens: 0)
        Snapshot.check(Harness.screen(b), named: "empty-80x24")
    }

    /// Any size from tiny to huge draws without trapping, and never writes outside the grid.
    @Test func everySizeRenders() {
        let (b, engine) = bench()
        Harness.type(b, ":compare vanilla\n")
        engine.emit(40, slot: .b)
        b.pump()
        for width in stride(from: 1, through: 140, by: 7) {
            for height in stride(from: 1, through: 50, by: 4) {
                let s = Harness.screen(b, width: width, height: height)
                #expect(s.text().split(separator: "\n", omittingEmptySubsequences: false).count == height)
            }
        }
    }
}

/// A trace with impossible numbers (NaN, infinities, zero times, empty texts, huge
/// depths) draws without trapping.
@Suite struct HostileTraceTests {
    @Test func nonFiniteAndOddValuesDrawWithoutTrapping() {
        var traces = SyntheticTraces.make(continuation: "ab\n\n\tc日😀")
        for i in traces.indices {
            traces[i].timeMs = [0, .nan, .infinity, .leastNonzeroMagnitude, -1][i % 5]
            traces[i].flops = .nan
            traces[i].fullDepthFlops = i % 2 == 0 ? 0 : .infinity
            traces[i].probability = i % 3 == 0 ? .nan : traces[i].probability
            traces[i].routerProbabilities = [.nan, .infinity, -3, 2]
            traces[i].exit.score = .nan
            if i % 4 == 0 { traces[i].text = "" }
            if i % 7 == 0 { traces[i].exit.maxSteps = 0 }
            if i % 6 == 0, !traces[i].steps.isEmpty { traces[i].steps[0].attention = [[.nan, .infinity], []] }
        }
        let engine = FakeEngine()
        let bench = Harness.workbench(engine: engine)
        let sink = engine.run()?.sink
        for t in traces { sink?.post(.token(t)) }
        bench.pump()
        for keys in ["", "v", "g", "jjj", "]]]", "e", "3e"] {
            Harness.type(bench, keys)
            for (w, h) in [(80, 24), (56, 16), (132, 43)] {
                _ = Harness.screen(bench, width: w, height: h)
            }
        }
        #expect(bench.state.runs[0].tokens.count == traces.count)
    }
}
