import Foundation

/// `depthscope eval`: the evaluation protocol of docs/architectures.md section 8.
/// The text's ids are cut into windows of max_position_embeddings inputs, each run from an
/// empty cache with inference semantics (the architecture's own routing and exits), and
/// every window predicts its next ids. Reports the mean negative log-likelihood per
/// predicted token, perplexity, and the depth and FLOPs spent per input token.
public struct EvaluationResult: Codable, Sendable, Equatable {
    /// The architecture with every option in effect (`name key=value ...`).
    public var architecture: String
    /// Predicted tokens (n - 1 for n ids).
    public var tokens: Int
    public var windows: Int
    /// Mean negative log-likelihood, nats per token.
    public var nll: Double
    public var perplexity: Double
    /// Depth steps executed per input token, and the most an input token can take.
    public var meanDepth: Double
    public var fullDepth: Int
    /// FLOPs per input token, and what full depth would have cost.
    public var flopsPerToken: Double
    public var fullDepthFlopsPerToken: Double
    public var flopsRatio: Double
    /// Share of input tokens that stopped before the full depth.
    public var earlyFraction: Double
    public var seconds: Double
}

public enum Evaluation {
    /// Evaluates `ids` (at least 2) under `architecture`.
    public static func run(model: DepthModel, tokenizer: any Tokenizer, architecture: Architecture, ids: [Int]) throws
        -> EvaluationResult
    {
        guard ids.count >= 2 else {
            throw EngineError("the text has \(ids.count) token\(ids.count == 1 ? "" : "s"); evaluation needs at least 2")
        }
        let vocabulary = model.config.vocabSize
        for id in ids where id < 0 || id >= vocabulary {
            throw EngineError("the tokenizer gives id \(id) but the model's vocabulary has \(vocabulary) entries")
        }
        let window = model.config.maxPositionEmbeddings
        // Caches sized for the longest window this text has, not the model's whole context.
        let session = try Session(
            model: model, tokenizer: tokenizer, architecture: architecture, tracing: false,
            capacity: min(window, ids.count - 1))
        let start = DispatchTime.now()
        var nll = 0.0
        var predicted = 0
        var depth = 0
        var early = 0
        var flops = 0.0
        var fullFlops = 0.0
        var windows = 0
        var begin = 0
        while begin < ids.count - 1 {
            let end = min(begin + window, ids.count - 1)
            session.reset()
            windows += 1
            for position in begin..<end {
                try session.feed(ids[position])
                guard let logits = session.nextTokenLogits else { continue }
                nll -= logSoftmax(of: ids[position + 1], logits.pointer, count: logits.count)
                predicted += 1
                let record = session.lastRecord
                depth += record.steps.count
                if record.steps.count < session.architecture.maxDepth { early += 1 }
                flops += record.flops
                fullFlops += record.fullDepthFlops
            }
            begin += window
        }
        let mean = nll / Double(predicted)
        let count = Double(predicted)
        return EvaluationResult(
            architecture: session.architecture.spec, tokens: predicted, windows: windows, nll: mean, perplexity: exp(mean),
            meanDepth: Double(depth) / count, fullDepth: session.architecture.maxDepth, flopsPerToken: flops / count,
            fullDepthFlopsPerToken: fullFlops / count, flopsRatio: fullFlops > 0 ? flops / fullFlops : 0,
            earlyFraction: Double(early) / count, seconds: seconds(since: start))
    }

    /// The validation split of a corpus: its Unicode scalars from floor(0.9 n) on.
    public static func validationSplit(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        let start = Int((0.9 * Double(scalars.count)).rounded(.down))
        return String(String.UnicodeScalarView(scalars[start...]))
    }
}

/// log softmax(logits)[token], in f64.
func logSoftmax(of token: Int, _ logits: UnsafePointer<Float>, count: Int) -> Double {
    var maximum = logits[0]
    for i in 1..<count where logits[i] > maximum { maximum = logits[i] }
    let top = Double(maximum)
    var total = 0.0
    for i in 0..<count { total += exp(Double(logits[i]) - top) }
    return Double(logits[token]) - top - log(total)
}
