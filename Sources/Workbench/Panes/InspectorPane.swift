import Engine

/// Draws styled lines top to bottom, clipped to its region.
struct LineWriter {
    let region: Region
    private(set) var y = 0

    init(_ region: Region) { self.region = region }

    var hasRoom: Bool { y < region.height }
    var remaining: Int { region.height - y }

    /// Writes one line from styled parts.
    mutating func line(_ parts: [(String, Style)]) {
        guard hasRoom else { return }
        var x = 0
        for (text, style) in parts where x < region.width {
            x = region.put(text, x, y, style)
        }
        y += 1
    }

    mutating func line(_ text: String, _ style: Style) { line([(text, style)]) }
}

/// Pane 4: everything about the selected token: what else the model could have said,
/// what each depth step predicted (logit lens), the router's scores, and why it stopped.
enum InspectorPane {
    static func draw(_ ctx: PaneContext, in region: Region) {
        let state = ctx.state
        let p = ctx.palette
        let info = state.selected.map { "pos \($0)" } ?? ""
        let inner = Box.draw(region, number: PaneID.inspector.rawValue, title: "inspector", info: info,
                             focused: ctx.focused, palette: p)
        guard inner.width > 0, inner.height > 0 else { return }
        guard let index = state.selected else {
            inner.put("no token selected", 0, 0, p.inactive)
            return
        }
        guard state.isComparing else {
            content(state.runs[0], index: index, label: nil, palette: p, in: inner)
            return
        }
        if inner.width >= 56 {
            let half = (inner.width - 1) / 2
            content(state.runs[0], index: index, label: "A", palette: p,
                    in: inner.sub(Rect(x: 0, y: 0, width: half, height: inner.height)))
            for y in 0..<inner.height { inner.set(half, y, p.glyphs.vertical, p.outline(focused: false)) }
            content(state.runs[1], index: index, label: "B", palette: p,
                    in: inner.sub(Rect(x: half + 1, y: 0, width: inner.width - half - 1, height: inner.height)))
        } else {
            let top = (inner.height + 1) / 2
            content(state.runs[0], index: index, label: "A", palette: p,
                    in: inner.sub(Rect(x: 0, y: 0, width: inner.width, height: top)))
            content(state.runs[1], index: index, label: "B", palette: p,
                    in: inner.sub(Rect(x: 0, y: top, width: inner.width, height: inner.height - top)))
        }
    }

    static func content(_ run: RunView, index: Int, label: String?, palette p: Palette, in region: Region) {
        var out = LineWriter(region)
        guard index < run.tokens.count else {
            out.line((label.map { $0 + " " } ?? "") + "no token at \(index) yet", p.inactive)
            return
        }
        let t = run.tokens[index]
        let g = p.glyphs

        // 'e' · id 17 · generated · p 31%
        var head: [(String, Style)] = []
        if let label { head.append((label + " ", p.hotkey)) }
        head.append((Format.quoted(t.text, g), StreamPane.depthStyle(t, maxDepth: run.maxDepth, palette: p).adding(.bold)))
        head.append((" id \(t.id) · " + (t.isPrompt ? "prompt" : "generated"), p.graphText))
        if let prob = t.probability { head.append((" · p " + Format.percent(Double(prob), digits: 0), p.graphText)) }
        out.line(head)

        // exit router 0.43 < 0.50 · 2/4 steps (sigmoid_router)
        var exit: [(String, Style)] = [("exit ", p.graphText), (t.exit.reason.rawValue, p.exitMarker)]
        if let score = t.exit.score {
            var comparison = " " + Format.float(score)
            if let threshold = t.exit.threshold {
                comparison += (score >= threshold ? " ≥ " : " < ") + Format.float(threshold)
            }
            exit.append((comparison, p.text(.mainForeground)))
        }
        exit.append((" · \(t.exit.steps)/\(t.exit.maxSteps) steps", p.graphText))
        if let criterion = t.exit.criterion,
           exit.reduce(0, { $0 + DisplayWidth.of($1.0) }) + criterion.count + 3 <= region.width {
            exit.append((" (\(criterion))", p.graphText))
        }
        out.line(exit)

        // router ▇.81 ▆.65 ▅.43: one score per routing decision.
        if let router = t.routerProbabilities, !router.isEmpty {
            var parts: [(String, Style)] = [("router", p.graphText)]
            for prob in router {
                let v = Double(prob)
                let levelIndex = min(7, max(0, Format.whole((v * 8).rounded(.down))))
                parts.append((" ", p.graphText))
                parts.append((String(g.verticalEighths[levelIndex]), p.gradient(.probability, v)))
                var number = Format.float(prob)
                if number.hasPrefix("0.") { number.removeFirst() }
                parts.append((number, p.text(.mainForeground)))
            }
            out.line(parts)
        }

        // cost 0.50 ms · 75% of full-depth FLOPs
        if out.remaining > 8 {
            var cost: [(String, Style)] = [("cost ", p.graphText), (Format.fixed(t.timeMs, 2) + " ms", p.text(.mainForeground))]
            if t.fullDepthFlops > 0 {
                cost.append((" · " + Format.percent(t.flops / t.fullDepthFlops, digits: 0) + " of full-depth FLOPs", p.graphText))
            }
            out.line(cost)
        }

        // Alternatives: what else could have been said here. With a logit lens to show as
        // well, they get about half of the room left.
        let lensSteps = t.steps.filter { $0.lens != nil }
        let showLens = !lensSteps.isEmpty && out.remaining >= 7
        let alternativeRows = showLens ? (out.remaining - 2) / 2 : out.remaining - 1
        if !t.alternatives.isEmpty && out.remaining > 1 {
            out.line("alternatives", p.title)
            let nameWidth = min(8, t.alternatives.map { DisplayWidth.of(Format.quoted($0.text, g)) }.max() ?? 3)
            let barWidth = max(4, min(16, region.width - nameWidth - 10))
            for alt in t.alternatives.prefix(max(1, alternativeRows)) {
                let chosen = alt.id == t.id
                let name = Region.truncate(Format.quoted(alt.text, g), to: nameWidth, ellipsis: g.ellipsis)
                let pad = String(repeating: " ", count: max(0, nameWidth - DisplayWidth.of(name)))
                let v = Double(alt.probability)
                let bar = g.bar(v, width: barWidth)
                out.line([
                    (chosen ? "▸ " : "  ", p.hotkey),
                    (name + pad + " ", chosen ? p.text(.mainForeground, .bold) : p.text(.mainForeground)),
                    (bar, p.gradient(.probability, v)),
                    (String(repeating: " ", count: max(0, barWidth - DisplayWidth.of(bar))) + " " + Format.percent(v), p.graphText),
                ])
                if !out.hasRoom { break }
            }
        }

        // Logit lens: the prediction after each step.
        if showLens && out.remaining > 1 {
            out.line("logit lens (next token after each step)", p.title)
            for step in lensSteps where out.hasRoom {
                var parts: [(String, Style)] = [(String(format: "%2d ", step.step + 1), p.graphText),
                                                ("L\(step.layer)r\(step.recursion) ", p.inactive)]
                if let score = step.score { parts.append(("s" + Format.float(score) + " ", p.inactive)) }
                for c in (step.lens ?? []).prefix(3) {
                    parts.append((Format.quoted(c.text, g), p.gradient(.probability, Double(c.probability))))
                    parts.append((" " + Format.percent(Double(c.probability), digits: 0) + " ", p.graphText))
                }
                out.line(parts)
            }
        }
    }
}
