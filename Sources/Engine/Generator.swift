import Foundation

/// What to generate and when to stop.
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends when the text contains one of these; it is not emitted.
    public var stopStrings: [String]
    /// Token ids that end generation (not emitted); usually the tokenizer's and config's EOS.
    public var stopTokens: Set<Int>

    public init(
        maxNewTokens: Int, sampling: SamplingParameters = SamplingParameters(),
        stopStrings: [String] = [], stopTokens: Set<Int> = []
    ) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.stopTokens = stopTokens
    }
}

public enum StopReason: String, Sendable, Codable {
    /// An end-of-sequence token was sampled.
    case endOfSequence = "eos"
    case stopString = "stop_string"
    case maxTokens = "max_tokens"
    /// The model's context (max_position_embeddings) is full.
    case contextLimit = "context_limit"
}

public struct GenerationResult: Sendable {
    public var promptTokens: Int
    public var generatedTokens: [Int]
    public var text: String
    public var stopReason: StopReason
    public var contextLimit: Int
    public var promptSeconds: Double
    public var generationSeconds: Double

    /// Prompt processing speed (tokens/s); 0 when there was nothing to time.
    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens.count) / generationSeconds : 0
    }
}

/// The generation loop: feeds the prompt, samples, streams complete UTF-8 text, stops at
/// an end token, a stop string, the token budget or the context limit.
public final class Generator {
    public let runner: any TokenRunner
    public let tokenizer: any Tokenizer

    public init(runner: any TokenRunner, tokenizer: any Tokenizer) {
        self.runner = runner
        self.tokenizer = tokenizer
    }

    /// Most tokens (prompt + generated) a sequence can have with this model.
    public static func contextLimit(model: Model) -> Int { model.config.maxPositionEmbeddings }

    /// Generates after `prompt` (token ids, e.g. with BOS). `onText` receives each piece
    /// of text as soon as it is complete; throwing from it stops generation.
    public func generate(
        prompt: [Int], options: GenerationOptions, onText: (String) throws -> Void
    ) throws -> GenerationResult {
        try options.sampling.validate()
        guard !prompt.isEmpty else {
            throw EngineError("the prompt is empty and there is no BOS token to start from")
        }
        let limit = min(Self.contextLimit(model: runner.model), runner.capacity)
        guard prompt.count <= limit else {
            throw EngineError(
                "the prompt is \(prompt.count) tokens but the context holds \(limit) (max_position_embeddings)")
        }
        runner.reset()
        var sampler = Sampler(parameters: options.sampling, vocabularySize: runner.model.config.vocabSize)
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var filter = StopStringFilter(stopStrings: options.stopStrings)
        var sequence = prompt
        sequence.reserveCapacity(prompt.count + options.maxNewTokens)

        let promptStart = DispatchTime.now()
        var logits: FloatVector?
        for (position, token) in prompt.enumerated() {
            logits = try runner.run(token: token, position: position)
            _ = try detokenizer.append(token)  // context for the first generated piece
        }
        let promptSeconds = seconds(since: promptStart)

        let generationStart = DispatchTime.now()
        var generated: [Int] = []
        var text = ""
        var reason = StopReason.maxTokens
        while generated.count < options.maxNewTokens, let current = logits {
            guard sequence.count < limit else {
                reason = .contextLimit
                break
            }
            let token = sampler.sample(logits: current.pointer, history: sequence)
            if options.stopTokens.contains(token) {
                reason = .endOfSequence
                break
            }
            generated.append(token)
            sequence.append(token)
            let shown = filter.push(try detokenizer.append(token))
            text += shown
            if !shown.isEmpty { try onText(shown) }
            if filter.stopped {
                reason = .stopString
                break
            }
            // The last token is never fed: nothing would read its logits.
            let more = generated.count < options.maxNewTokens && sequence.count < limit
            logits = more ? try runner.run(token: token, position: sequence.count - 1) : nil
            if !more, sequence.count >= limit, generated.count < options.maxNewTokens {
                reason = .contextLimit
            }
        }
        if reason != .stopString {
            // Text the detokenizer held back (e.g. a space it shows only before more text).
            let held = filter.push(try detokenizer.finish())
            text += held
            if !held.isEmpty { try onText(held) }
            if filter.stopped { reason = .stopString }
        }
        let tail = filter.flush()
        if !tail.isEmpty {
            text += tail
            try onText(tail)
        }
        return GenerationResult(
            promptTokens: prompt.count, generatedTokens: generated, text: text, stopReason: reason,
            contextLimit: limit, promptSeconds: promptSeconds,
            generationSeconds: seconds(since: generationStart))
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
