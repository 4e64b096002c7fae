import Engine

/// Pane 2: one bar per token, steps executed against the maximum, with a marker where a
/// token stopped early, and the routing mode (capacity or threshold) always in view.
/// In A/B compare, A's bars grow up and B's hang down from a shared row of tokens.
enum DepthPane {
    static func draw(_ ctx: PaneContext, in region: Region, map: inout FrameMap) {
        let state = ctx.state
        let p = ctx.palette
        let a = state.runs[0]
        let b: RunView? = state.isComparing ? state.runs[1] : nil
        let maxDepth = max(a.maxDepth, b?.maxDepth ?? 0)
        let info = "max \(maxDepth) · mean " + Format.fixed(a.stats.meanDepth, 2)
            + (b.map { " / " + Format.fixed($0.stats.meanDepth, 2) } ?? "")
        let inner = Box.draw(region, number: PaneID.depth.rawValue, title: "depth", info: info,
                             focused: ctx.focused, palette: p)
        guard inner.width > 0, inner.height > 0 else { return }

        // A step axis on the left when every step gets its own rows.
        let count = max(a.tokens.count, b?.tokens.count ?? 0)
        let axisWidth = b == nil && inner.height - 2 >= maxDepth && inner.width >= 30 ? String(maxDepth).count + 1 : 0
        let plot = inner.sub(Rect(x: axisWidth, y: 0, width: inner.width - axisWidth, height: inner.height))
        let columns = plot.width
        let selected = state.selected ?? max(0, count - 1)
        let first: Int
        if state.cursor == nil {
            first = max(0, count - columns)
        } else {
            first = max(0, min(selected - columns / 2, count - columns))
        }
        if axisWidth > 0 {
            let barRows = inner.height - 2
            let perStep = barRows / maxDepth
            for k in 0..<maxDepth {
                let y = 1 + barRows - 1 - k * perStep
                inner.put(String(k + 1), axisWidth - 1 - String(k + 1).count, y, p.inactive)
            }
        }

        if let b {
            // A routing / A bars / labels / B bars / B routing.
            inner.put("A " + routing(a), 0, 0, p.status, maxWidth: inner.width)
            if inner.height >= 2 { inner.put("B " + routing(b), 0, inner.height - 1, p.status, maxWidth: inner.width) }
            let barRows = max(0, inner.height - 3)
            let upRows = (barRows + 1) / 2, downRows = barRows / 2
            let labelRow = 1 + upRows
            for column in 0..<columns {
                let i = first + column
                guard i < count else { break }
                if i < a.tokens.count {
                    bar(a.tokens[i], maxDepth: maxDepth, x: column, top: 1, height: upRows, downward: false,
                        palette: p, in: inner)
                }
                if i < b.tokens.count {
                    bar(b.tokens[i], maxDepth: maxDepth, x: column, top: labelRow + 1, height: downRows, downward: true,
                        palette: p, in: inner)
                }
                map.tokens.append(FrameMap.TokenHit(
                    rect: Rect(x: plot.frame.x + column, y: plot.frame.y, width: 1, height: plot.height), index: i))
                let differs = i >= a.tokens.count || i >= b.tokens.count || a.tokens[i].id != b.tokens[i].id
                label(i < a.tokens.count ? a.tokens[i] : b.tokens[i], x: column, y: labelRow, selected: i == selected,
                      differs: differs, palette: p, in: inner)
            }
        } else {
            inner.put(routing(a), 0, 0, p.status, maxWidth: inner.width)
            let barRows = max(0, inner.height - 2)
            for column in 0..<columns {
                let i = first + column
                guard i < a.tokens.count else { break }
                map.tokens.append(FrameMap.TokenHit(
                    rect: Rect(x: plot.frame.x + column, y: plot.frame.y, width: 1, height: plot.height), index: i))
                bar(a.tokens[i], maxDepth: maxDepth, x: column, top: 1, height: barRows, downward: false,
                    palette: p, in: plot)
                label(a.tokens[i], x: column, y: inner.height - 1, selected: i == selected, differs: false,
                      palette: p, in: plot)
            }
        }
        if count == 0, inner.height > 2 { inner.put("no tokens yet", 0, 1, p.inactive) }
    }

    /// The routing line: the engine's description, else what the tokens say.
    static func routing(_ run: RunView) -> String {
        if let info = run.info { return info.routing }
        if case let .failed(message) = run.status { return message }
        return run.status == .loading ? "loading…" : "–"
    }

    /// One token's bar in a column `height` cells tall starting at row `top`.
    static func bar(_ token: TokenTrace, maxDepth: Int, x: Int, top: Int, height: Int, downward: Bool,
                    palette p: Palette, in region: Region) {
        guard height > 0, maxDepth > 0 else { return }
        let g = p.glyphs
        let depth = min(token.depth, maxDepth)
        let t = maxDepth > 1 ? Double(token.depth - 1) / Double(maxDepth - 1) : 1
        let fill = p.gradient(.depth, t)
        let stoppedEarly = depth < maxDepth && token.exit.reason != .fullDepth
        func row(_ k: Int) -> Int { downward ? top + k : top + height - 1 - k }

        if height >= maxDepth {
            // Whole rows per step; a skipped step shows a dot at its base, the first one
            // the exit marker.
            let perStep = height / maxDepth
            for k in 0..<maxDepth {
                for r in 0..<perStep {
                    let y = row(k * perStep + r)
                    if k < depth {
                        region.set(x, y, g.verticalEighths[7], fill)
                    } else if r == 0 {
                        region.set(x, y, k == depth && stoppedEarly ? g.exitMarker : g.skipped,
                                   k == depth && stoppedEarly ? p.exitMarker : p.inactive)
                    }
                }
            }
            return
        }
        // Scaled: eighth blocks on top when growing up, whole cells when hanging down; the
        // exit marker sits just past the bar's end.
        let eighths = Int((Double(depth) / Double(maxDepth) * Double(height) * 8).rounded())
        let full = downward ? (eighths + 4) / 8 : eighths / 8
        let partial = downward ? 0 : eighths % 8
        for k in 0..<full where k < height { region.set(x, row(k), g.verticalEighths[7], fill) }
        if partial > 0, full < height { region.set(x, row(full), g.verticalEighths[partial - 1], fill) }
        let markerAt = full + (partial > 0 ? 1 : 0)
        if stoppedEarly, markerAt < height { region.set(x, row(markerAt), g.exitMarker, p.exitMarker) }
    }

    static func label(_ token: TokenTrace, x: Int, y: Int, selected: Bool, differs: Bool, palette p: Palette,
                      in region: Region) {
        let text = Format.visible(token.text, p.glyphs)
        var ch = text.first ?? " "
        if DisplayWidth.of(ch) != 1 { ch = p.glyphs.emptyToken }
        var style = token.isPrompt ? p.prompt(p.graphText) : p.text(.mainForeground)
        if differs { style = p.difference(style) }
        if selected { style = p.selected }
        region.set(x, y, ch, style)
    }
}
