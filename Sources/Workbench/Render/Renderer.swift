/// Draws one frame: top bar, the panes of the current layout, the bottom line (hints,
/// message or command palette) and any overlay. A pure function of the state.
struct Renderer {
    /// Below this the workbench says so instead of drawing panes.
    static let minimumSize = (width: 56, height: 16)

    let state: WorkbenchState
    let palette: Palette
    let layouts: LayoutCache

    func render(into surface: Surface) -> FrameMap {
        var map = FrameMap()
        let root = surface.region
        root.fill(palette.base)
        guard surface.width >= Self.minimumSize.width, surface.height >= Self.minimumSize.height else {
            drawTooSmall(root)
            return map
        }
        drawTopBar(root.sub(Rect(x: 0, y: 0, width: root.width, height: 1)))
        let body = Rect(x: 0, y: 1, width: root.width, height: root.height - 2)
        let frames = Layouts.frames(preset: state.preset, visible: state.visible, comparing: state.isComparing,
                                    expanded: state.expanded ? state.focus : nil, in: body)
        map.panes = frames
        for frame in frames {
            let ctx = PaneContext(state: state, palette: palette, layouts: layouts, focused: frame.pane == state.focus)
            let region = root.sub(frame.rect)
            switch frame.pane {
            case .stream: StreamPane.draw(ctx, side: frame.side, in: region, map: &map)
            case .depth: DepthPane.draw(ctx, in: region, map: &map)
            case .attention: AttentionPane.draw(ctx, in: region)
            case .inspector: InspectorPane.draw(ctx, in: region)
            case .throughput: ThroughputPane.draw(ctx, in: region)
            case .model: ModelPane.draw(ctx, in: region)
            }
        }
        drawBottomLine(root.sub(Rect(x: 0, y: root.height - 1, width: root.width, height: 1)))
        switch state.overlay {
        case let .help(page)?: HelpOverlay.draw(page: page, palette: palette, in: root)
        case let .picker(picker)?: drawPicker(picker, in: root)
        case let .promptEditor(field, chat)?: drawPromptEditor(field, chat: chat, in: root)
        case .palette?, nil: break
        }
        if !palette.glyphs.unicode { ASCIIFallback.apply(to: surface) }
        return map
    }

    private func drawTooSmall(_ root: Region) {
        defer { if !palette.glyphs.unicode { ASCIIFallback.apply(to: root.surface) } }
        let lines = [
            "terminal too small: \(root.width)x\(root.height)",
            "depthscope needs at least \(Self.minimumSize.width)x\(Self.minimumSize.height)",
            "resize it, or press q to quit",
        ]
        let top = max(0, root.height / 2 - 1)
        for (i, line) in lines.enumerated() {
            let text = Region.truncate(line, to: root.width, ellipsis: palette.glyphs.ellipsis)
            root.put(text, max(0, (root.width - DisplayWidth.of(text)) / 2), top + i, i == 0 ? palette.error : palette.base)
        }
    }

    /// ` depthscope │ model │ architecture(s) │ ● status(es)   N tok · theme · colours`.
    /// Statuses always show; when the line is short the model name goes first, then the
    /// architecture specs are shortened.
    private func drawTopBar(_ bar: Region) {
        let style = palette.topBar
        bar.fill(style)
        let a = state.runs[0]
        let comparing = state.isComparing
        var statuses: [(String, Style)] = [("│ ", style)]
        for (i, run) in state.runs.enumerated() {
            let dot: Style
            switch run.status {
            case .running: dot = style.with(foreground: palette.color(.status))
            case .failed: dot = style.with(foreground: palette.color(.error)).adding(.bold)
            default: dot = style.with(foreground: palette.color(.hotkey))
            }
            statuses.append(((comparing ? (i == 0 ? "A " : "B ") : "") + "● " + run.status.label + " ", dot))
        }
        let head = " depthscope "
        let model = "│ " + (a.info?.model ?? a.settings.model) + " "
        var specs = state.runs.map { $0.info?.architectureSpec ?? $0.settings.architecture }
        let labels = state.runs.indices.map { comparing ? ($0 == 0 ? "A " : "B ") : "" }
        let fixed = DisplayWidth.of(head) + statuses.reduce(0) { $0 + DisplayWidth.of($1.0) }
        let specsWidth = zip(labels, specs).reduce(0) { $0 + DisplayWidth.of($1.0) + DisplayWidth.of($1.1) + 3 }
        let showModel = fixed + DisplayWidth.of(model) + specsWidth <= bar.width
        if fixed + specsWidth > bar.width {
            let room = max(4, (bar.width - fixed) / max(1, specs.count) - 3 - (comparing ? 2 : 0))
            specs = specs.map { Region.truncateFront($0, to: room, ellipsis: palette.glyphs.ellipsis) }
        }
        var x = bar.put(head, 0, 0, style.adding(.bold))
        if showModel { x = bar.put(model, x, 0, style) }
        for (label, spec) in zip(labels, specs) { x = bar.put("│ " + label + spec + " ", x, 0, style) }
        for (text, s) in statuses { x = bar.put(text, x, 0, s) }
        let long = "\(a.tokens.count) tok · theme \(palette.theme.name) · \(palette.mode.rawValue) colours "
        let short = "\(a.tokens.count) tok "
        for right in [long, short] where bar.width - x > DisplayWidth.of(right) {
            bar.put(right, bar.width - DisplayWidth.of(right), 0, style)
            break
        }
    }

    private func drawBottomLine(_ line: Region) {
        if case let .palette(field)? = state.overlay {
            line.fill(palette.base)
            var x = line.put(":", 0, 0, palette.hotkey)
            let chars = Array(field.text)
            for (i, ch) in chars.enumerated() {
                x = line.put(String(ch), x, 0, i == field.cursor ? palette.selected : palette.text(.mainForeground))
            }
            if field.cursor >= chars.count { line.set(x, 0, " ", palette.selected) }
            let hint = "Tab completes · Enter runs · Esc cancels"
            if line.width - x > DisplayWidth.of(hint) + 4 {
                line.put(hint, line.width - DisplayWidth.of(hint) - 1, 0, palette.inactive)
            }
            return
        }
        if let message = state.message {
            line.put(" " + message.text, 0, 0, message.isError ? palette.error : palette.status)
            return
        }
        // Hints: help and quit always at the right; the focused pane's own keys first,
        // then the common ones, as many as fit.
        let fixed = "? help  q quit "
        let fixedX = line.width - DisplayWidth.of(fixed)
        var hints: [(String, String)] = []
        switch state.focus {
        case .attention: hints += [("[ ]", "step"), ("< >", "head"), ("v", "view")]
        case .stream, .depth, .inspector: hints += [("←→", "token")]
        case .model: hints += [("a", "arch")] + (state.capabilities.contains(.switchModel) ? [("m", "model")] : [])
        case .throughput: break
        }
        hints += [("space", state.paused ? "run" : "pause"), ("n", "step")]
        if state.capabilities.contains(.stepBack) { hints.append(("N", "back")) }
        hints += [("r", "restart"), ("a", "arch"), ("c", "A/B"), (":", "command"), ("1-6", "panes"), ("p", "layout"),
                  ("e", "expand"), ("Tab", "focus")]
        var seen = Set<String>()
        var x = 1
        for (key, label) in hints where seen.insert(key).inserted {
            let width = DisplayWidth.of(key) + DisplayWidth.of(label) + 3
            guard x + width <= fixedX else { break }
            x = line.put(key, x, 0, palette.hotkey)
            x = line.put(" " + label + "  ", x, 0, palette.inactive)
        }
        var fx = line.put("?", fixedX, 0, palette.hotkey)
        fx = line.put(" help  ", fx, 0, palette.inactive)
        fx = line.put("q", fx, 0, palette.hotkey)
        line.put(" quit", fx, 0, palette.inactive)
    }

    /// A centred box for overlays; returns its inner region.
    static func overlayBox(_ root: Region, width: Int, height: Int, title: String, palette: Palette) -> Region {
        let w = min(width, root.width), h = min(height, root.height - 2)
        let box = root.sub(Rect(x: (root.width - w) / 2, y: (root.height - h) / 2, width: w, height: h))
        box.fill(palette.base)
        return Box.draw(box, number: nil, title: title, focused: true, palette: palette)
    }

    private func drawPicker(_ picker: Picker, in root: Region) {
        let widest = zip(picker.items, picker.details).map { DisplayWidth.of($0) + DisplayWidth.of($1) + 6 }.max() ?? 20
        let inner = Self.overlayBox(root, width: max(48, widest + 4), height: picker.items.count + 4,
                                    title: picker.title, palette: palette)
        guard inner.height > 1 else { return }
        let rows = inner.height - 1
        let first = max(0, min(picker.index - rows / 2, picker.items.count - rows))
        for (row, i) in (first..<min(picker.items.count, first + rows)).enumerated() {
            let style = i == picker.index ? palette.selected : palette.text(.mainForeground)
            if i == picker.index { inner.sub(Rect(x: 0, y: row, width: inner.width, height: 1)).fill(style) }
            var x = inner.put((i == picker.index ? "▸ " : "  ") + picker.items[i], 0, row, style)
            if !picker.details[i].isEmpty {
                x = inner.put("  " + picker.details[i], x, row, i == picker.index ? style : palette.graphText)
            }
        }
        inner.put("↑↓ choose · Enter switches now · Esc cancels", 0, inner.height - 1, palette.inactive)
    }

    private func drawPromptEditor(_ field: TextField, chat: Bool, in root: Region) {
        let inner = Self.overlayBox(root, width: min(root.width - 4, 72), height: min(root.height - 4, 12),
                                    title: chat ? "chat message (the model's chat template)" : "prompt", palette: palette)
        guard inner.height > 1, inner.width > 2 else { return }
        let textArea = inner.sub(Rect(x: 0, y: 0, width: inner.width, height: inner.height - 1))
        var x = 0, y = 0
        var cursorAt = (x: 0, y: 0)
        let chars = Array(field.text)
        for (i, ch) in chars.enumerated() {
            if i == field.cursor { cursorAt = (x, y) }
            if ch == "\n" {
                textArea.set(x, y, palette.glyphs.newline, palette.inactive)
                x = 0; y += 1
                continue
            }
            let w = max(1, DisplayWidth.of(ch))
            if x + w > textArea.width { x = 0; y += 1 }
            textArea.put(String(ch), x, y, palette.text(.mainForeground))
            x += w
        }
        if field.cursor >= chars.count { cursorAt = (x >= textArea.width ? 0 : x, x >= textArea.width ? y + 1 : y) }
        let ch = cursorAt.y < textArea.height ? textArea.style(at: cursorAt.x, cursorAt.y) : nil
        if ch != nil { textArea.restyle(cursorAt.x, cursorAt.y) { _ in palette.selected } }
        inner.put(
            "Enter restarts · Ctrl-T chat \(chat ? "off" : "on") · Ctrl-J newline · Esc cancels", 0, inner.height - 1,
            palette.inactive)
    }
}
