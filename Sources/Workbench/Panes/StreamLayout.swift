import Engine

/// Lays tokens out in lines of a given width. Each token gets one slot: its visible text
/// (newlines shown as a glyph), then as many line breaks as it has newlines. For A/B
/// compare both runs use one layout whose slot widths and breaks fit either token, so
/// position i sits in the same cell in both boxes.
struct StreamLayout {
    struct Slot: Equatable {
        var line: Int
        var column: Int
        var width: Int
    }

    private(set) var slots: [Slot] = []
    private(set) var lineCount = 1

    init(width: Int, count: Int, glyphs: Glyphs, texts: (Int) -> [String]) {
        let width = max(1, width)
        var line = 0, column = 0
        slots.reserveCapacity(count)
        for i in 0..<count {
            let variants = texts(i)
            let w = min(width, max(1, variants.map { DisplayWidth.of(Format.visible($0, glyphs)) }.max() ?? 1))
            let breaks = variants.map { $0.filter { $0 == "\n" || $0 == "\r\n" }.count }.max() ?? 0
            if column > 0 && column + w > width { line += 1; column = 0 }
            slots.append(Slot(line: line, column: column, width: w))
            column += w
            if breaks > 0 { line += breaks; column = 0 }
        }
        lineCount = line + 1
    }

    /// First line to show so that `line` is visible in `height` lines: following the
    /// newest token keeps the end in view, a moved cursor sits mid-way.
    func topLine(showing line: Int, height: Int, following: Bool) -> Int {
        guard height > 0 else { return 0 }
        if following { return max(0, lineCount - height) }
        return max(0, min(line - height / 2, lineCount - height))
    }
}

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
        let count = max(tokens.count, other?.tokens.count ?? 0)
        let layout = StreamLayout(width: inner.width, count: count, glyphs: p.glyphs) { i in
            var texts: [String] = []
            if i < tokens.count { texts.append(tokens[i].text) }
            if let other, i < other.tokens.count { texts.append(other.tokens[i].text) }
            return texts
        }
        if runIndex == 0 {
            for (i, slot) in layout.slots.enumerated() where i < tokens.count {
                map.streamPlaces[i] = FrameMap.StreamPlace(line: slot.line, column: slot.column)
            }
        }
        if tokens.isEmpty {
            inner.put(run.status == .loading ? "loading…" : "no tokens yet", 0, 0, p.inactive)
            return
        }
        let selected = state.selected
        let selectedLine = selected.flatMap { $0 < layout.slots.count ? layout.slots[$0].line : nil } ?? layout.lineCount - 1
        let top = layout.topLine(showing: selectedLine, height: inner.height, following: state.cursor == nil)
        let maxDepth = run.maxDepth
        for (i, token) in tokens.enumerated() {
            let slot = layout.slots[i]
            let y = slot.line - top
            guard y >= 0, y < inner.height else { continue }
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
