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
    public static func run(
        model: DepthModel, tokenizer: any Tokenizer, architecture: Architecture, ids: [Int], threads: Int = 1
    ) throws -> EvaluationResult {
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
            capacity: min(window, ids.count - 1), threads: threads)
        let start = DispatchTime.now()
        var nll = 0.0
        var statistics = DepthStatistics()
        var windows = 0
        var begin = 0
        while begin < ids.count - 1 {
            let end = min(begin + window, ids.count - 1)
            session.reset()
            windows += 1
            try session.feed(ids[begin..<end], isPrompt: true, logits: .all) { token in
                guard let logits = token.logits else { return }
                nll -= logSoftmax(of: ids[begin + token.position + 1], logits, count: vocabulary)
                statistics.add(token.record)
            }
            begin += window
        }
        let count = Double(statistics.tokens)
        return EvaluationResult(
            architecture: session.architecture.spec, tokens: statistics.tokens, windows: windows, nll: nll / count,
            perplexity: exp(nll / count), meanDepth: statistics.meanDepth, fullDepth: session.architecture.maxDepth,
            flopsPerToken: statistics.flops / count, fullDepthFlopsPerToken: statistics.fullDepthFlops / count,
            flopsRatio: statistics.flopsRatio, earlyFraction: statistics.earlyFraction, seconds: seconds(since: start))
    }

    /// The validation split of a corpus: its Unicode scalars from floor(0.9 n) on.
    public static func validationSplit(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        let start = Int((0.9 * Double(scalars.count)).rounded(.down))
        return String(String.UnicodeScalarView(scalars[start...]))
    }
}

