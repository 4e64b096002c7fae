import Engine

/// Pane 3: where the selected token looked. Row view: its attention over the context for
/// one depth step and head, painted onto the context text, plus a strip of every head and
/// the most attended keys. Matrix view: queries x keys for the same step and head, two
/// queries per text row with half blocks. The default gradient is viridis (colour-blind
/// safe); without colour, shades stand in.
enum AttentionPane {
    static func draw(_ ctx: PaneContext, in region: Region) {
        let state = ctx.state
        let p = ctx.palette
        let run = state.runs[0]
        let mode = state.attention.matrix ? "query × key" : "row"
        let inner = Box.draw(region, number: PaneID.attention.rawValue, title: "attention",
                             info: mode + (state.isComparing ? " · A" : ""), focused: ctx.focused, palette: p)
        guard inner.width > 0, inner.height > 0 else { return }
        drawLegend(region, palette: p)

        guard let selected = state.selected else {
            inner.put("no token selected", 0, 0, p.inactive)
            return
        }
        let token = run.tokens[selected]
        guard let fallback = token.steps.last else {
            inner.put("this token ran no steps", 0, 0, p.inactive)
            return
        }
        let requested = state.attention.step
        let step = requested.flatMap { r in token.steps.first(where: { $0.step == r }) } ?? fallback
        guard let heads = step.attention, !heads.isEmpty else {
            inner.put("no attention in this trace (capture off)", 0, 0, p.inactive, maxWidth: inner.width)
            return
        }
        let head = state.attention.head % heads.count

        var header = "step \(step.step + 1)/\(run.maxDepth) · L\(step.layer) r\(step.recursion) · head \(head + 1)/\(heads.count)"
        if let r = requested, r != step.step { header += " · stopped before \(r + 1)" }
        let x = inner.put(header, 0, 0, p.title, maxWidth: inner.width)
        let hint = "  [ ] step  < > head  v view"
        if inner.width - x >= DisplayWidth.of(hint) { inner.put(hint, x, 0, p.inactive) }

        let body = inner.sub(Rect(x: 0, y: 1, width: inner.width, height: inner.height - 1))
        guard body.height > 0 else { return }
        if state.attention.matrix {
            drawMatrix(run: run, selected: selected, scheduleStep: step.step, head: head, palette: p, in: body)
        } else {
            drawRow(run: run, selected: selected, heads: heads, head: head, palette: p, layouts: ctx.layouts, in: body)
        }
    }

    /// ` low ▇▇▇▇▇ high ` on the bottom edge.
    static func drawLegend(_ region: Region, palette p: Palette) {
        guard region.height >= 4, region.width >= 24 else { return }
        var x = region.width - 18
        x = region.put(" low ", x, region.height - 1, p.graphText)
        for k in 0..<5 {
            let t = Double(k) / 4
            if p.hasColor {
                region.set(x, region.height - 1, p.glyphs.verticalEighths[7], p.gradient(.attention, t))
            } else {
                region.set(x, region.height - 1, p.glyphs.shade(t), p.base)
            }
            x += 1
        }
        region.put(" high ", x, region.height - 1, p.graphText)
    }

    static func drawRow(run: RunView, selected: Int, heads: [[Float]], head: Int, palette p: Palette,
                        layouts: LayoutCache, in body: Region) {
        let weights = heads[head]
        let keyCount = min(weights.count, selected + 1)
        // After a context shift the row covers only the kept window, ending at the token
        // itself: weights[k] is about token k + offset.
        let offset = selected + 1 - keyCount
        let peak = Double(weights.prefix(keyCount).max() ?? 0)
        func level(_ w: Float) -> Double { peak > 0 ? Double(w) / peak : 0 }

        // Room planning: the context text first (as many lines as it needs, at least
        // half), then the heads strip, then the most attended keys (a list with bars when
        // there is room, else one line).
        let ranked = topKeys(weights, count: keyCount, k: 8)
        let context = layouts.layout(width: body.width, runs: [run], glyphs: p.glyphs, limit: selected + 1)
        let contextLines = context.lineCount
        let stripRows = heads.count > 1 && body.height >= 6
            ? min(CellKind(p) == .halfBlocks ? (heads.count + 1) / 2 : heads.count, max(1, body.height / 3)) : 0
        let spare = body.height - stripRows - max(contextLines, (body.height + 1) / 2)
        let listRows = spare >= 3 ? min(ranked.count, spare) : 0
        let keyRows = max(1, listRows)

        if listRows > 0 {
            let list = body.sub(Rect(x: 0, y: body.height - listRows, width: body.width, height: listRows))
            let barWidth = max(4, min(30, list.width - 22))
            for (row, k) in ranked.prefix(listRows).enumerated() {
                let name = Region.truncate(Format.quoted(run.tokens[k + offset].text, p.glyphs), to: 6, ellipsis: p.glyphs.ellipsis)
                let x = list.put(name, 0, row, p.text(.mainForeground))
                list.put("@\(k + offset)", max(x, 6), row, p.graphText)
                let bar = p.glyphs.bar(level(weights[k]), width: barWidth)
                list.put(bar, 12, row, p.gradient(.attention, level(weights[k])))
                list.put(" " + Format.percent(Double(weights[k])), 12 + barWidth, row, p.graphText)
            }
        } else {
            var x = body.put("top ", 0, body.height - 1, p.graphText)
            for k in ranked.prefix(5) {
                let item = Format.quoted(run.tokens[k + offset].text, p.glyphs) + "@\(k + offset) " + Format.percent(Double(weights[k]), digits: 0)
                guard x + DisplayWidth.of(item) + 1 <= body.width else { break }
                x = body.put(item + " ", x, body.height - 1, p.heat(.attention, level(weights[k])))
                x = body.put(" ", x, body.height - 1, p.base)
            }
        }

        // Above it: every head over the latest keys.
        var textRows = body.height - keyRows
        if stripRows > 0 {
            let top = textRows - stripRows
            drawHeadStrip(heads: heads, keyCount: keyCount, palette: p,
                          in: body.sub(Rect(x: 0, y: top, width: body.width, height: stripRows)))
            textRows = top
        }
        guard textRows > 0 else { return }

        // The context with each token's background showing its weight.
        let text = body.sub(Rect(x: 0, y: 0, width: body.width, height: textRows))
        let top = context.topLine(showing: context.slot(selected).line, height: text.height, following: true)
        for i in context.firstIndex(atOrAfterLine: top)..<max(context.firstIndex(atOrAfterLine: top), selected + 1) {
            let slot = context.slot(i)
            let y = slot.line - top
            guard y >= 0, y < text.height else { continue }
            let inWindow = i >= offset && i - offset < keyCount
            let style = i == selected ? p.selected : (inWindow ? p.heat(.attention, level(weights[i - offset])) : p.inactive)
            let shown = Format.visible(run.tokens[i].text, p.glyphs)
            let end = text.put(shown, slot.column, y, style, maxWidth: slot.width)
            if !p.hasColor, inWindow, i != selected, end < slot.column + slot.width {
                text.set(end, y, p.glyphs.shade(level(weights[i - offset])), p.base)
            }
        }
    }

    /// Indices of the `k` largest weights, largest first, in one pass.
    static func topKeys(_ weights: [Float], count: Int, k: Int) -> [Int] {
        var best: [Int] = []
        for i in 0..<count {
            if best.count == k, let last = best.last, weights[i] <= weights[last] { continue }
            let at = best.firstIndex { weights[i] > weights[$0] } ?? best.count
            best.insert(i, at: at)
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// Heads as rows (two per text row in colour), the most recent keys as columns.
    static func drawHeadStrip(heads: [[Float]], keyCount: Int, palette p: Palette, in region: Region) {
        let columns = min(region.width, keyCount)
        let firstKey = keyCount - columns
        func level(_ h: Int, _ k: Int) -> Double? {
            guard h < heads.count, k < heads[h].count else { return nil }
            let peak = heads[h].prefix(keyCount).max() ?? 0
            return peak > 0 ? Double(heads[h][k] / peak) : 0
        }
        let cell = CellKind(p)
        for row in 0..<region.height {
            for c in 0..<columns {
                let k = firstKey + c
                switch cell {
                case .halfBlocks:
                    let top = level(2 * row, k), bottom = level(2 * row + 1, k)
                    if let top, let bottom {
                        region.set(c, row, p.glyphs.upperHalf, p.halfBlock(.attention, top: top, bottom: bottom))
                    } else if let top {
                        region.set(c, row, p.glyphs.upperHalf, p.gradient(.attention, top))
                    }
                case .colorCells:
                    if let v = level(row, k) { region.set(c, row, " ", p.heat(.attention, v)) }
                case .shades:
                    if let v = level(row, k) { region.set(c, row, p.glyphs.shade(v), p.base) }
                }
            }
        }
    }

    static func drawMatrix(run: RunView, selected: Int, scheduleStep: Int, head: Int, palette p: Palette,
                           in body: Region) {
        let rows = body.height - 1
        guard rows > 0 else { return }
        let cell = CellKind(p)
        let perRow = cell == .halfBlocks ? 2 : 1
        let queryCount = min(selected + 1, rows * perRow)
        let firstQuery = selected + 1 - queryCount
        let keyColumns = min(body.width, selected + 1)
        let firstKey = selected + 1 - keyColumns

        /// Row-normalised weight of query q on key k; nil where the query has no such row
        /// (it stopped before this step, or k is in its future).
        func level(_ q: Int, _ k: Int) -> Double? {
            guard q <= selected, k <= q else { return nil }
            guard let row = run.tokens[q].steps.first(where: { $0.step == scheduleStep })?.attention,
                  head < row.count else { return nil }
            // After a context shift a row covers only the window ending at its query.
            let key = k - (q + 1 - row[head].count)
            guard key >= 0, key < row[head].count else { return nil }
            let peak = row[head].max() ?? 0
            return peak > 0 ? Double(row[head][key] / peak) : 0
        }
        func ranStep(_ q: Int) -> Bool {
            q <= selected && run.tokens[q].steps.contains(where: { $0.step == scheduleStep })
        }

        for r in 0..<rows {
            let qTop = firstQuery + r * perRow
            guard qTop <= selected else { break }
            for c in 0..<keyColumns {
                let k = firstKey + c
                if cell == .halfBlocks {
                    let top = level(qTop, k), bottom = level(qTop + 1, k)
                    switch (top, bottom) {
                    case let (t?, b?): body.set(c, r, p.glyphs.upperHalf, p.halfBlock(.attention, top: t, bottom: b))
                    case let (t?, nil): body.set(c, r, p.glyphs.upperHalf, p.gradient(.attention, t))
                    case let (nil, b?): body.set(c, r, p.glyphs.lowerHalf, p.gradient(.attention, b))
                    case (nil, nil):
                        if k <= qTop && !ranStep(qTop) { body.set(c, r, p.glyphs.skipped, p.inactive) }
                    }
                } else if let v = level(qTop, k) {
                    body.set(c, r, cell == .shades ? p.glyphs.shade(v) : " ", cell == .shades ? p.base : p.heat(.attention, v))
                } else if k <= qTop && !ranStep(qTop) {
                    body.set(c, r, p.glyphs.skipped, p.inactive)
                }
            }
        }
        let caption = "queries \(firstQuery)–\(selected) × keys \(firstKey)–\(selected) · each row scaled to its max"
            + " · gaps: query skipped this step"
        body.put(caption, 0, body.height - 1, p.graphText, maxWidth: body.width)
    }
}

/// How a heatmap cell is drawn: two values per cell with half blocks (colour and Unicode),
/// one coloured cell per value (colour, ASCII only), or shade characters (no colour).
enum CellKind {
    case halfBlocks, colorCells, shades

    init(_ p: Palette) {
        if !p.hasColor { self = .shades } else { self = p.glyphs.unicode ? .halfBlocks : .colorCells }
    }
}
