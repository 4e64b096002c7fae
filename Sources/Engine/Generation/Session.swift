import Foundation

/// A loaded model running under one architecture and a sampler, token by token: the one
/// object the command line, `eval`, the TUI and the benchmarks drive.
///
/// Every token fed (prompt or generated) produces a `TokenTrace` when `tracing` is on:
/// its depth steps, exit decision, router probabilities, FLOPs, KV bytes and, with
/// `capture`, per-step attention rows and logit lens; plus its text and the model's
/// top alternatives at that position. With tracing off nothing is built and a decoded
/// token allocates nothing.
///
/// `switchArchitecture` swaps the architecture on the loaded weights (nothing is read from
/// disk again) and replays the text so far - prompt and generated tokens - under the new
/// one, so the text is kept and the caches are what the new architecture would have built.
public final class Session {
    public let model: DepthModel
    public let tokenizer: any Tokenizer
    /// Most tokens the session holds (KV capacity, at most max_position_embeddings).
    public let capacity: Int
    /// Whether `feed` builds a `TokenTrace`.
    public let tracing: Bool
    /// Threads each large matrix product is split over.
    public let threads: Int
    public private(set) var architecture: Architecture
    public private(set) var runner: DepthRunner
    /// Every token so far, prompt first.
    public private(set) var tokens: [Int] = []
    /// Whether each token of `tokens` came from the prompt.
    public private(set) var isPromptToken: [Bool] = []
    /// The settings `sample()` draws with; setting them restarts the random stream.
    public var sampling: SamplingParameters {
        didSet { sampler = Sampler(parameters: sampling, vocabularySize: model.config.vocabSize) }
    }
    /// Attention rows and logit lens per step (traces only).
    public var capture: TraceCapture {
        get { runner.capture }
        set { runner.capture = newValue }
    }

    private var sampler: Sampler
    private var detokenizer: StreamingDetokenizer
    /// Next-token logits after the last token fed (nil before the first).
    private var logits: FloatVector?

    /// A session on `model` under `architecture` (default: the checkpoint's own).
    /// `capacity` defaults to the model's context (max_position_embeddings).
    public init(
        model: DepthModel, tokenizer: any Tokenizer, architecture: Architecture? = nil,
        sampling: SamplingParameters = SamplingParameters(), capture: TraceCapture = [], tracing: Bool = true,
        capacity: Int? = nil, threads: Int = 1
    ) throws {
        try sampling.validate()
        let context = model.config.maxPositionEmbeddings
        let capacity = min(capacity ?? context, context)
        guard capacity >= 1 else { throw EngineError("the session capacity must be at least 1 token") }
        let architecture = try architecture ?? Architecture.defaultFor(model)
        self.model = model
        self.tokenizer = tokenizer
        self.capacity = capacity
        self.tracing = tracing
        self.architecture = architecture
        self.sampling = sampling
        self.threads = threads
        runner = try DepthRunner(
            source: model, architecture: architecture, capacity: capacity, capture: capture, threads: threads)
        sampler = Sampler(parameters: sampling, vocabularySize: model.config.vocabSize)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: false)
    }

    /// Position of the next token.
    public var position: Int { tokens.count }

    /// The next-token logits after the last token fed (nil before the first); valid until
    /// the next `feed`.
    public var nextTokenLogits: FloatVector? { logits }

    /// What the runner recorded for the last token fed (also when tracing is off).
    public var lastRecord: TokenRecord { runner.record }

    /// Runs `token` at the next position. Returns its trace when tracing is on.
    @discardableResult
    public func feed(_ token: Int, isPrompt: Bool = false) throws -> TokenTrace? {
        guard token >= 0, token < model.config.vocabSize else {
            throw EngineError("token id \(token) is out of range (vocabulary size \(model.config.vocabSize))")
        }
        guard tokens.count < capacity else {
            throw EngineError("context limit reached: the session holds \(capacity) tokens")
        }
        var alternatives: [Candidate] = []
        var probability: Float?
        if tracing, let previous = logits {
            alternatives = topCandidates(previous.pointer, count: previous.count, limit: 5).map(named)
            probability = softmaxProbability(of: token, previous.pointer, count: previous.count)
        }
        let position = tokens.count
        logits = try runner.run(token: token, position: position)
        tokens.append(token)
        isPromptToken.append(isPrompt)
        guard tracing else { return nil }

        let record = runner.record
        var steps = record.steps
        if capture.contains(.lens) {
            for i in steps.indices { steps[i].lens = steps[i].lens?.map(named) }
        }
        return TokenTrace(
            position: position, id: token, text: try detokenizer.append(token), isPrompt: isPrompt, steps: steps,
            exit: record.exit, routerProbabilities: record.routerProbabilities.isEmpty ? nil : record.routerProbabilities,
            alternatives: alternatives, probability: probability, timeMs: record.timeMs, flops: record.flops,
            fullDepthFlops: record.fullDepthFlops, kvCacheBytes: record.kvCacheBytes)
    }

    /// Draws the next token from the current logits with `sampling` (does not feed it).
    public func sample() throws -> Int {
        guard let logits else { throw EngineError("nothing to sample from: feed the prompt first") }
        return sampler.sample(logits: logits.pointer, history: tokens)
    }

    /// Forgets the text (the architecture and sampler stay).
    public func reset() {
        runner.reset()
        tokens = []
        isPromptToken = []
        logits = nil
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: false)
    }

    /// Switches to `architecture` on the same loaded weights and replays every token so far
    /// under it (prompt and generated alike, same ids). `onTrace` receives the replayed
    /// tokens' traces. The sampler continues where it was.
    public func switchArchitecture(_ architecture: Architecture, onTrace: (TokenTrace) throws -> Void = { _ in }) throws {
        let replacement = try DepthRunner(
            source: model, architecture: architecture, capacity: capacity, capture: capture, threads: threads)
        let history = Array(zip(tokens, isPromptToken))
        self.architecture = architecture
        runner = replacement
        reset()
        for (token, isPrompt) in history {
            if let trace = try feed(token, isPrompt: isPrompt) { try onTrace(trace) }
        }
    }

    /// `switchArchitecture` by name and options (validated against the checkpoint).
    public func switchArchitecture(
        name: String, options: [ArchitectureOption] = [], onTrace: (TokenTrace) throws -> Void = { _ in }
    ) throws {
        try switchArchitecture(Architecture.resolve(name, options: options, for: model), onTrace: onTrace)
    }

    /// Generates after `prompt` from an empty context: feeds the prompt, then samples and
    /// feeds tokens until an end token, a stop string, the token budget or the context
    /// limit. `onText` receives complete UTF-8 text as it becomes final (special tokens
    /// skipped, stop strings held back); `onTrace` every token's trace when tracing.
    public func generate(
        prompt: [Int], options: GenerationOptions, onText: (String) throws -> Void,
        onTrace: (TokenTrace) throws -> Void = { _ in }
    ) throws -> GenerationResult {
        try options.sampling.validate()
        guard !prompt.isEmpty else {
            throw EngineError("the prompt is empty and there is no BOS token to start from")
        }
        guard prompt.count <= capacity else {
            throw EngineError(
                "the prompt is \(prompt.count) tokens but the context holds \(capacity) (max_position_embeddings)")
        }
        reset()
        sampling = options.sampling
        var shown = GeneratedText(tokenizer: tokenizer, stopStrings: options.stopStrings)

        let promptStart = DispatchTime.now()
        for token in prompt {
            if let trace = try feed(token, isPrompt: true) { try onTrace(trace) }
            try shown.context(token)
        }
        let promptSeconds = seconds(since: promptStart)

        let generationStart = DispatchTime.now()
        var generated: [Int] = []
        var reason = StopReason.maxTokens
        while generated.count < options.maxNewTokens {
            guard tokens.count < capacity else {
                reason = .contextLimit
                break
            }
            let token = try sample()
            if options.stopTokens.contains(token) {
                reason = .endOfSequence
                break
            }
            generated.append(token)
            if let trace = try feed(token) { try onTrace(trace) }
            if try shown.append(token, onText: onText) {
                reason = .stopString
                break
            }
        }
        try shown.finish(&reason, onText: onText)
        return GenerationResult(
            promptTokens: prompt.count, generatedTokens: generated, text: shown.text, stopReason: reason,
            contextLimit: capacity, promptSeconds: promptSeconds, generationSeconds: seconds(since: generationStart))
    }

    private func named(_ candidate: Candidate) -> Candidate {
        Candidate(id: candidate.id, text: tokenizer.displayText(candidate.id), probability: candidate.probability)
    }
}

/// softmax(logits)[token].
func softmaxProbability(of token: Int, _ logits: UnsafePointer<Float>, count: Int) -> Float {
    let (maximum, total) = softmaxDenominator(logits, count: count)
    return Float(Double(expf(logits[token] - maximum)) / total)
}
