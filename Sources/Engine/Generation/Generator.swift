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

/// The text side of a generation loop, shared by `Generator` and `Session.generate`: turns
/// generated tokens into complete UTF-8 pieces, holds back what may start a stop string, and
/// keeps the text shown so far.
struct GeneratedText {
    private var detokenizer: StreamingDetokenizer
    private var filter: StopStringFilter
    private(set) var text = ""

    init(tokenizer: any Tokenizer, stopStrings: [String]) {
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        filter = StopStringFilter(stopStrings: stopStrings)
    }

    /// A prompt token: context for the first generated piece, never shown.
    mutating func context(_ token: Int) throws {
        _ = try detokenizer.append(token)
    }

    /// A generated token; returns true when a stop string has appeared (generation ends).
    mutating func append(_ token: Int, onText: (String) throws -> Void) throws -> Bool {
        try show(filter.push(try detokenizer.append(token)), onText)
        return filter.stopped
    }

    /// Shows what was held back and settles the stop reason.
    mutating func finish(_ reason: inout StopReason, onText: (String) throws -> Void) throws {
        if reason != .stopString {
            // Text the detokenizer held back (e.g. a space it shows only before more text).
            try show(filter.push(try detokenizer.finish()), onText)
            if filter.stopped { reason = .stopString }
        }
        try show(filter.flush(), onText)
    }

    private mutating func show(_ piece: String, _ onText: (String) throws -> Void) throws {
        guard !piece.isEmpty else { return }
        text += piece
        try onText(piece)
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
        var shown = GeneratedText(tokenizer: tokenizer, stopStrings: options.stopStrings)
        var sequence = prompt
        sequence.reserveCapacity(prompt.count + options.maxNewTokens)

        let promptStart = DispatchTime.now()
        var logits: FloatVector?
        for (position, token) in prompt.enumerated() {
            logits = try runner.run(token: token, position: position)
            try shown.context(token)
        }
        let promptSeconds = seconds(since: promptStart)

        let generationStart = DispatchTime.now()
        var generated: [Int] = []
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
            if try shown.append(token, onText: onText) {
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
        try shown.finish(&reason, onText: onText)
        return GenerationResult(
            promptTokens: prompt.count, generatedTokens: generated, text: shown.text, stopReason: reason,
            contextLimit: limit, promptSeconds: promptSeconds,
            generationSeconds: seconds(since: generationStart))
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
