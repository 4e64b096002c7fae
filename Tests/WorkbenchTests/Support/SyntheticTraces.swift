import Foundation
import Engine
@testable import Workbench

/// Hand-made, deterministic traces that look like a character-level Mixture-of-Recursions
/// run: depth follows simple rules about the character (so tests can predict it), the
/// router scores and exit decisions agree with a threshold, attention favours recent and
/// identical characters, and every field of `TokenTrace` is filled. Used by the fake
/// engine and to write the committed sample traces for replay. These are NOT model
/// output; a real trace from the engine replaces the samples once it exists.
enum SyntheticTraces {
    static let samplePrompt = "ROMEO:\n"
    static let sampleText = "But soft, what light\nthrough yonder window?"

    /// A router score for a character at a recursion step, in 0...1.
    static func routerScore(_ ch: Character, position: Int, step: Int) -> Float {
        let base: Float
        if ch.isUppercase { base = 0.95 } else if "aeiou".contains(ch) { base = 0.55 } else if ch.isLetter { base = 0.75 }
        else if ch == " " || ch == "\n" { base = 0.4 } else { base = 0.65 }
        let wobble = Float((position * 7 + step * 3) % 5) * 0.02
        return max(0, min(1, base - Float(step) * 0.12 + wobble))
    }

    /// Traces for `prompt` + `continuation`, with MoR-style expert-choice exits at
    /// `threshold` (a threshold of 0 runs every token to `maxDepth`).
    static func make(prompt: String = samplePrompt, continuation: String = sampleText, maxDepth: Int = 4,
                     heads: Int = 2, threshold: Float = 0.5, withAttention: Bool = true,
                     criterion: String = "sigmoid_router", attentionWindow: Int? = nil) -> [TokenTrace] {
        let chars = Array(prompt + continuation)
        let promptCount = prompt.count
        var traces: [TokenTrace] = []
        let vocabulary = Array(Set(chars)).sorted()
        func id(_ c: Character) -> Int { vocabulary.firstIndex(of: c) ?? 0 }
        func round4(_ v: Float) -> Float { (v * 10_000).rounded() / 10_000 }

        for (position, ch) in chars.enumerated() {
            // Depth: continue while the router score passes the threshold (step 0 always runs).
            var depth = 1
            var scores: [Float] = []
            for step in 0..<maxDepth {
                let s = round4(routerScore(ch, position: position, step: step))
                scores.append(s)
                if step > 0 {
                    if s >= threshold { depth = step + 1 } else { break }
                }
            }
            let full = depth == maxDepth
            var steps: [StepTrace] = []
            for step in 0..<depth {
                var attention: [[Float]]? = nil
                if withAttention {
                    attention = (0..<heads).map { head in
                        var row = (0...position).map { k -> Float in
                            let distance = Float(position - k)
                            var w = 1 / (1 + distance * (head == 0 ? 0.8 : 0.15))
                            if chars[k] == ch { w += 0.6 }
                            if k == 0 { w += 0.3 * Float(step + 1) }
                            return w
                        }
                        // After a context shift an engine's row covers only the newest keys.
                        if let window = attentionWindow { row = Array(row.suffix(window)) }
                        let total = row.reduce(0, +)
                        row = row.map { ($0 / total * 1000).rounded() / 1000 }
                        return row
                    }
                }
                let next = position + 1 < chars.count ? chars[position + 1] : " "
                let confidence = round4(0.3 + 0.15 * Float(step))
                let lens = [
                    Candidate(id: id(next), text: String(next), probability: confidence),
                    Candidate(id: id(" "), text: " ", probability: round4((1 - confidence) / 2)),
                    Candidate(id: id("e"), text: "e", probability: round4((1 - confidence) / 4)),
                ].sorted { $0.probability > $1.probability }
                steps.append(StepTrace(step: step, block: .core, layer: 0, recursion: step,
                                       timeMs: Double(5 + step) / 100, score: scores[step], lens: lens,
                                       attention: attention))
            }
            let exit = full
                ? ExitDecision(reason: .fullDepth, criterion: criterion, score: nil, threshold: threshold,
                               steps: depth, maxSteps: maxDepth)
                : ExitDecision(reason: .router, criterion: criterion, score: scores[depth], threshold: threshold,
                               steps: depth, maxSteps: maxDepth)
            let previous = position > 0 ? chars[position - 1] : ch
            let alternatives: [Candidate] = position == 0 ? [] : [
                Candidate(id: id(ch), text: String(ch), probability: round4(0.35 + Float(position % 4) * 0.1)),
                Candidate(id: id(" "), text: " ", probability: 0.12),
                Candidate(id: id(previous), text: String(previous), probability: 0.08),
                Candidate(id: id("\n"), text: "\n", probability: 0.05),
                Candidate(id: id("e"), text: "e", probability: 0.04),
            ]
            let layerFlops = 40_000.0
            traces.append(TokenTrace(
                position: position, id: id(ch), text: String(ch), isPrompt: position < promptCount,
                steps: steps, exit: exit, routerProbabilities: Array(scores.prefix(max(depth + (full ? 0 : 1), 1))),
                alternatives: alternatives,
                probability: position == 0 ? nil : alternatives.first?.probability,
                timeMs: Double(20 + 10 * depth + 2 * (position % 3)) / 100,
                flops: layerFlops * Double(depth), fullDepthFlops: layerFlops * Double(maxDepth),
                kvCacheBytes: (position + 1) * depth * 2 * 64 * 4))
        }
        return traces
    }
}
