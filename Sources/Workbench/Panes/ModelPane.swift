/// Pane 6: the model, the architecture and its options, the prompt and the sampler, with
/// the keys that change them (the run restarts at once with the same prompt and seed).
enum ModelPane {
    static func draw(_ ctx: PaneContext, in region: Region) {
        let state = ctx.state
        let p = ctx.palette
        let inner = Box.draw(region, number: PaneID.model.rawValue, title: "model", info: "", focused: ctx.focused,
                             palette: p)
        guard inner.width > 0, inner.height > 0 else { return }
        var out = LineWriter(inner)
        let a = state.runs[0]
        let key = p.graphText, value = p.text(.mainForeground)

        out.line([("model  ", key), (a.info?.model ?? a.settings.model, p.title)])
        for (i, run) in state.runs.enumerated() {
            let label = state.isComparing ? (i == 0 ? "A " : "B ") : ""
            let spec = run.info?.architectureSpec ?? run.settings.architecture
            out.line([("arch   ", key), (label, p.hotkey), (spec, value)])
        }
        if let info = a.info {
            let details = info.details.map { "\($0.key) \($0.value)" }.joined(separator: " · ")
            if !details.isEmpty, out.remaining > 2 { out.line([("       ", key), (details, p.graphText)]) }
        }
        if state.capabilities.contains(.editPrompt) {
            let prompt = Format.visible(a.settings.prompt, p.glyphs)
            out.line([(a.settings.chat ? "chat   " : "prompt ", key), ("\"" + prompt + "\"", p.prompt(value))])
        }
        if state.capabilities.contains(.sampling), out.remaining > 1 {
            let s = a.settings.sampler
            out.line([("sample ", key), ("temp \(SamplerChange.format(s.temperature)) · top-k \(s.topK) · "
                + "top-p \(SamplerChange.format(s.topP)) · seed \(s.seed)", value)])
        }
        // Key hints on the last line.
        if out.hasRoom {
            var hints: [(String, String)] = [("a", "arch")]
            if state.capabilities.contains(.switchModel) { hints.insert(("m", "model"), at: 0) }
            if state.capabilities.contains(.editPrompt) { hints.append(("i", "prompt")) }
            if state.capabilities.contains(.sampling) { hints.append(("s", "sample")) }
            hints.append(("c", "A/B"))
            var x = 0
            for (k, label) in hints {
                guard x + k.count + label.count + 2 <= inner.width else { break }
                x = inner.put(k, x, inner.height - 1, p.hotkey)
                x = inner.put(" " + label + " ", x, inner.height - 1, p.inactive)
            }
        }
    }
}
