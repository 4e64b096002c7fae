/// Pane 5: what the tokens cost: tokens per second now and over time, milliseconds per
/// token, mean depth, compute saved against full depth, and the KV cache.
enum ThroughputPane {
    static func draw(_ ctx: PaneContext, in region: Region) {
        let state = ctx.state
        let p = ctx.palette
        let inner = Box.draw(region, number: PaneID.throughput.rawValue, title: "throughput",
                             info: state.sparkline.rawValue, focused: ctx.focused, palette: p)
        guard inner.width > 0, inner.height > 0 else { return }
        // Numbers on the left; the sparklines to their right when the pane is wide,
        // else below them.
        let labels: [String?] = state.isComparing ? ["A", "B"] : [nil]
        let textWidth = 30
        let sideBySide = inner.width >= textWidth + 12
        let text = sideBySide ? inner.sub(Rect(x: 0, y: 0, width: textWidth, height: inner.height)) : inner
        var out = LineWriter(text)
        let linesPerRun = inner.height >= 3 * labels.count ? 3 : 2
        for (i, label) in labels.enumerated() {
            let run = state.runs[i]
            let stats = run.stats
            let prefix: [(String, Style)] = label.map { [($0 + " ", p.hotkey)] } ?? []
            let rate = stats.tokensPerSecond().map { Format.grouped(Format.whole($0)) } ?? "–"
            let ms = stats.msPerToken().map { Format.fixed($0, $0 < 10 ? 2 : 1) } ?? "–"
            if let paced = run.info?.pacedTokensPerSecond {
                // Paced (`--speed`): the engine's own rate (per-token compute time) and the
                // rate tokens are let onto the screen, both named, so neither passes for the other.
                out.line(prefix + [(rate, p.title), (" tok/s engine  ", p.graphText),
                                   (Format.grouped(Format.whole(paced)), p.text(.mainForeground)), ("/s paced", p.graphText)])
            } else {
                out.line(prefix + [(rate, p.title), (" tok/s  ", p.graphText), (ms, p.text(.mainForeground)),
                                   (" ms/tok", p.graphText)])
            }
            let saved = stats.computeSaved.map { Format.percent($0) } ?? "–"
            out.line(prefix + [("depth ", p.graphText), (Format.fixed(stats.meanDepth, 2), p.text(.mainForeground)),
                               ("/\(run.maxDepth)  saved ", p.graphText), (saved, p.status)])
            if linesPerRun == 3 {
                out.line(prefix + [("KV ", p.graphText), (Format.bytes(stats.kvCacheBytes), p.text(.mainForeground)),
                                   ("  \(stats.tokenCount) tok", p.graphText)])
            }
        }
        let graphArea: Region
        if sideBySide {
            graphArea = inner.sub(Rect(x: textWidth + 1, y: 0, width: inner.width - textWidth - 1, height: inner.height))
        } else {
            graphArea = inner.sub(Rect(x: 0, y: out.y, width: inner.width, height: inner.height - out.y))
        }
        let per = graphArea.height / labels.count
        for i in labels.indices where per > 0 {
            let graph = graphArea.sub(Rect(x: 0, y: i * per, width: graphArea.width, height: per))
            let history = state.runs[i].stats.throughputHistory(last: graph.width * 2)
            Sparkline.draw(history, style: state.sparkline, gradient: .throughput, palette: p, in: graph)
        }
    }
}
