import Engine

/// Pane 1: the text, each token coloured by depth, the prompt set apart, a cursor.
enum StreamPane {
    static func draw(_ ctx: PaneContext, side: RunSlot?, in region: Region, map: inout FrameMap) {
        let state = ctx.state
        let p = ctx.palette
        let runIndex = side?.rawValue ?? 0
        guard runIndex < state.runs.count else { return }
        let run = state.runs[runIndex]
        let other: RunView? = state.isComparing ? state.runs[1 - runIndex] : nil

        var title = "stream"
        if let side { title += " " + side.label }
        let legend = depthLegend(maxDepth: run.maxDepth, palette: p)
        var info = side.map { _ in run.info?.architectureSpec ?? run.settings.architecture } ?? ""
        if info.isEmpty { info = state.cursor == nil ? "\(run.tokens.count) tok · following" : "cursor \(state.selected ?? 0)" }
        let inner = Box.draw(region, number: side == .b ? nil : PaneID.stream.rawValue, title: title, info: info,
                             focused: ctx.focused, palette: p)
        guard inner.width > 0, inner.height > 0 else { return }

        // Legend on the bottom edge, under the text.
        if region.height >= 4, inner.width > legend.width + 4 {
            var x = region.width - 2 - legend.width
            for (text, style) in legend.parts { x = region.put(text, x, region.height - 1, style) }
        }

        let tokens = run.tokens
        // One layout for both boxes when comparing, so positions line up.
        let layout = ctx.layouts.layout(width: inner.width, runs: other == nil ? [run] : state.runs, glyphs: p.glyphs)
        if runIndex == 0 { map.stream = layout }
        if tokens.isEmpty {
            inner.put(run.status == .loading ? "loading…" : "no tokens yet", 0, 0, p.inactive)
            return
        }
        let selected = state.selected
        let selectedLine = selected.flatMap { $0 < layout.count ? layout.slot($0).line : nil } ?? layout.lineCount - 1
        let top = layout.topLine(showing: selectedLine, height: inner.height, following: state.cursor == nil)
        let maxDepth = run.maxDepth
        var i = layout.firstIndex(atOrAfterLine: top)
        while i < tokens.count, i < layout.count {
            let slot = layout.slot(i)
            let y = slot.line - top
            if y >= inner.height { break }
            defer { i += 1 }
            let token = tokens[i]
            var style = depthStyle(token, maxDepth: maxDepth, palette: p)
            if let other, i < other.tokens.count {
                let o = other.tokens[i]
                if o.id != token.id { style = p.difference(style) } else if o.depth != token.depth { style = style.adding(.underline) }
            } else if other != nil {
                style = p.difference(style)
            }
            if i == selected { style = p.selected }
            let text = Format.visible(token.text, p.glyphs)
            inner.put(text, slot.column, y, style, maxWidth: slot.width)
            let w = DisplayWidth.of(text)
            if w < slot.width {
                inner.put(String(repeating: " ", count: slot.width - w), slot.column + w, y,
                          i == selected ? p.selected : p.base)
            }
            map.tokens.append(FrameMap.TokenHit(
                rect: Rect(x: inner.frame.x + slot.column, y: inner.frame.y + y, width: slot.width, height: 1), index: i))
        }
    }

    /// The colour of a token: depth along the gradient, prompt set apart.
    static func depthStyle(_ token: TokenTrace, maxDepth: Int, palette: Palette) -> Style {
        let t = maxDepth > 1 ? Double(token.depth - 1) / Double(maxDepth - 1) : 1
        let style = palette.gradient(.depth, t)
        return token.isPrompt ? palette.prompt(style) : style
    }

    /// ` depth 1234 prompt `: what each colour means (long depths shown as a ramp).
    static func depthLegend(maxDepth: Int, palette: Palette) -> (parts: [(String, Style)], width: Int) {
        var parts: [(String, Style)] = [(" depth ", palette.graphText)]
        if maxDepth <= 9 {
            for d in 1...max(maxDepth, 1) {
                let t = maxDepth > 1 ? Double(d - 1) / Double(maxDepth - 1) : 1
                parts.append((String(d), palette.gradient(.depth, t)))
            }
        } else {
            parts.append(("1", palette.gradient(.depth, 0)))
            for k in 1...4 { parts.append((String(palette.glyphs.verticalEighths[7]), palette.gradient(.depth, Double(k) / 5))) }
            parts.append((String(maxDepth), palette.gradient(.depth, 1)))
        }
        parts.append((" ", palette.graphText))
        parts.append(("prompt", palette.prompt(palette.graphText)))
        parts.append((" ", palette.graphText))
        return (parts, parts.reduce(0) { $0 + DisplayWidth.of($1.0) })
    }
}
