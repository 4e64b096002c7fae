/// Pane 5: what the tokens cost: tokens per second now and over time, milliseconds per
/// token, mean depth, compute saved against full depth, and the KV cache.
enum ThroughputPane {
    static func draw(_ ctx: PaneContext, in region: Region) {
        let state = ctx.state
        let p = ctx.palette
        let inner = Box.draw(region, number: PaneID.throughput.rawValue, title: "throughput",
                             info: state.sparkline.rawValue, focused: ctx.focused, palette: p)
        guard inner.width > 0, inner.height > 0 else { return }
        var out = LineWriter(inner)
        let labels: [String?] = state.isComparing ? ["A", "B"] : [nil]
        for (i, label) in labels.enumerated() {
            let run = state.runs[i]
            let stats = run.stats
            let prefix: [(String, Style)] = label.map { [($0 + " ", p.hotkey)] } ?? []
            let rate = stats.tokensPerSecond().map { Format.grouped(Int($0.rounded())) } ?? "–"
            let ms = stats.msPerToken().map { Format.fixed($0, $0 < 10 ? 2 : 1) } ?? "–"
            out.line(prefix + [(rate, p.title), (" tok/s  ", p.graphText), (ms, p.text(.mainForeground)),
                               (" ms/tok", p.graphText)])
            let saved = stats.computeSaved.map { Format.percent($0) } ?? "–"
            out.line(prefix + [("depth ", p.graphText), (Format.fixed(stats.meanDepth, 2), p.text(.mainForeground)),
                               ("/\(run.maxDepth)  saved ", p.graphText), (saved, p.status)])
            if out.remaining > (state.isComparing ? 3 : 1) {
                out.line(prefix + [("KV ", p.graphText), (Format.bytes(stats.kvCacheBytes), p.text(.mainForeground)),
                                   ("  \(stats.generatedCount) gen + \(stats.tokenCount - stats.generatedCount) prompt",
                                    p.graphText)])
            }
        }
        // The rest: one sparkline per run, tokens per second after each token.
        let graphRows = out.remaining
        guard graphRows > 0 else { return }
        let per = graphRows / labels.count
        for i in labels.indices where per > 0 {
            let graph = inner.sub(Rect(x: 0, y: out.y + i * per, width: inner.width, height: per))
            let history = state.runs[i].stats.throughputHistory(last: inner.width * 2)
            Sparkline.draw(history, style: state.sparkline, gradient: .throughput, palette: p, in: graph)
            if let peak = history.max(), per >= 2 {
                graph.put("max " + Format.grouped(Int(peak.rounded())), 0, 0, p.inactive)
            }
        }
    }
}
