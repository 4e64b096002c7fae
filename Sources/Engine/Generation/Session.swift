import Foundation

/// A loaded model running under one architecture and a sampler: the one object the
/// command line, `eval`, `bench` and the workbench drive, and the only generation loop.
///
/// Tokens are fed in batches (`feed`): a prompt, an architecture-switch replay or a context
/// shift goes through the batched forward pass, a generated token as a batch of one. Every
/// token fed produces a `TokenTrace` when `tracing` is on: its depth steps, exit decision,
/// router probabilities, FLOPs, KV bytes and, with `capture`, per-step attention rows and
/// logit lens; plus its text and the model's top alternatives at that position. With
/// tracing off nothing is built and a decoded token allocates nothing.
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
    /// Every token so far, prompt first (since the last context shift).
    public private(set) var tokens: [Int] = []
    /// Whether each token of `tokens` came from the prompt.
    public private(set) var isPromptToken: [Bool] = []
    /// Tokens dropped from the front by context shifts: trace positions count them, so a
    /// position is a token's index in the whole text.
    public private(set) var droppedTokens = 0
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
    /// Whether the runner holds next-token logits for the last token fed.
    private var hasLogits = false
    private var generation: Generation?

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
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: false, skipsUnknownIds: true)
    }

    /// Position of the next token.
    public var position: Int { tokens.count }

    /// The next-token logits after the last token fed (nil before the first); valid until
    /// the next `feed`.
    public var nextTokenLogits: UnsafeBufferPointer<Float>? {
        guard hasLogits else { return nil }
        return UnsafeBufferPointer(start: runner.logits(of: runner.count - 1), count: model.config.vocabSize)
    }

    /// What the runner recorded for the last token fed (also when tracing is off).
    public var lastRecord: TokenRecord { runner.record }

    /// One token just fed: what the runner recorded, its trace (when tracing and asked),
    /// and its next-token logits (when kept).
    public struct FedToken {
        public let position: Int
        public let record: TokenRecord
        public let trace: TokenTrace?
        public let logits: UnsafePointer<Float>?
    }

    /// Runs `ids` at the next positions, in batches through the forward pass. `onToken`
    /// gets every token in order; `logits: .all` keeps every token's next-token logits for
    /// it (evaluation), and `traces: false` skips building traces (a context shift's re-feed).
    public func feed<Tokens: RandomAccessCollection<Int>>(
        _ ids: Tokens, isPrompt: Bool, logits kept: DepthRunner.KeptLogits = .last, traces: Bool = true,
        onToken: (FedToken) throws -> Void = { _ in }
    ) throws {
        let vocabulary = model.config.vocabSize
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw EngineError("token id \(bad) is out of range (vocabulary size \(vocabulary))")
        }
        guard tokens.count + ids.count <= capacity else {
            throw EngineError("context limit reached: the session holds \(capacity) tokens")
        }
        let tracing = self.tracing && traces
        var offset = ids.startIndex
        while offset < ids.endIndex {
            let batch = ids[offset..<(ids.index(offset, offsetBy: runner.batchSize, limitedBy: ids.endIndex) ?? ids.endIndex)]
            // The alternatives of the batch's first token come from the logits before it.
            var alternatives: [Candidate] = []
            var probability: Float?
            if tracing, let previous = nextTokenLogits, let first = batch.first {
                alternatives = topCandidates(previous.baseAddress!, count: vocabulary, limit: 5).map(named)
                probability = softmaxProbability(of: first, previous.baseAddress!, count: vocabulary)
            }
            let last = batch.endIndex == ids.endIndex
            try runner.run(batch, logits: tracing || kept == .all ? .all : last ? .last : .none)
            hasLogits = last || tracing || kept == .all
            for (j, id) in batch.enumerated() {
                let position = tokens.count
                tokens.append(id)
                isPromptToken.append(isPrompt)
                // The text context is kept whenever traces may be asked for (a shift's re-feed too).
                let text = self.tracing ? try detokenizer.append(id) : ""
                if tracing, j > 0 {
                    let previous = runner.logits(of: j - 1)
                    alternatives = topCandidates(previous, count: vocabulary, limit: 5).map(named)
                    probability = softmaxProbability(of: id, previous, count: vocabulary)
                }
                let record = runner.records[j]
                let trace = tracing ? self.trace(record, position: position, id: id, text: text, isPrompt: isPrompt,
                                                 alternatives: alternatives, probability: probability) : nil
                let keptLogits = kept == .all || tracing || (last && j == batch.count - 1) ? runner.logits(of: j) : nil
                try onToken(FedToken(position: position + droppedTokens, record: record, trace: trace, logits: keptLogits))
            }
            offset = batch.endIndex
        }
    }

    /// Runs `token` at the next position. Returns its trace when tracing is on.
    @discardableResult
    public func feed(_ token: Int, isPrompt: Bool = false) throws -> TokenTrace? {
        var trace: TokenTrace?
        try feed(CollectionOfOne(token), isPrompt: isPrompt) { trace = $0.trace }
        return trace
    }

    private func trace(
        _ record: TokenRecord, position: Int, id: Int, text: String, isPrompt: Bool, alternatives: [Candidate],
        probability: Float?
    ) -> TokenTrace {
        var steps = record.steps
        if capture.contains(.lens) {
            for i in steps.indices { steps[i].lens = steps[i].lens?.map(named) }
        }
        return TokenTrace(
            position: position + droppedTokens, id: id, text: text, isPrompt: isPrompt, steps: steps, exit: record.exit,
            routerProbabilities: record.routerProbabilities.isEmpty ? nil : record.routerProbabilities,
            alternatives: alternatives, probability: probability, timeMs: record.timeMs, flops: record.flops,
            fullDepthFlops: record.fullDepthFlops, kvCacheBytes: record.kvCacheBytes)
    }

    /// Draws the next token from the current logits with `sampling` (does not feed it).
    public func sample() throws -> Int {
        guard let logits = nextTokenLogits, let base = logits.baseAddress else {
            throw EngineError("nothing to sample from: feed the prompt first")
        }
        return sampler.sample(logits: base, history: tokens)
    }

    /// Forgets the text (the architecture and sampler stay).
    public func reset() {
        runner.reset()
        tokens = []
        isPromptToken = []
        droppedTokens = 0
        hasLogits = false
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: false, skipsUnknownIds: true)
    }

    /// Switches to `architecture` on the same loaded weights and replays every token so far
    /// under it (prompt and generated alike, same ids, in batches). `onTrace` receives the
    /// replayed tokens' traces. The sampler continues where it was.
    public func switchArchitecture(_ architecture: Architecture, onTrace: (TokenTrace) throws -> Void = { _ in }) throws {
        let replacement = try DepthRunner(
            source: model, architecture: architecture, capacity: capacity, capture: capture, threads: threads)
        self.architecture = architecture
        runner = replacement
        try replay { if let trace = $0.trace { try onTrace(trace) } }
    }

    /// `switchArchitecture` by name and options (validated against the checkpoint).
    public func switchArchitecture(
        name: String, options: [ArchitectureOption] = [], onTrace: (TokenTrace) throws -> Void = { _ in }
    ) throws {
        try switchArchitecture(Architecture.resolve(name, options: options, for: model), onTrace: onTrace)
    }

    /// Feeds the text so far again from an empty cache, prompt runs and generated runs as
    /// they were (a batch never mixes the two, so each trace keeps its flag).
    private func replay(traces: Bool = true, onToken: (FedToken) throws -> Void) throws {
        let history = Array(zip(tokens, isPromptToken))
        let dropped = droppedTokens
        reset()
        droppedTokens = dropped
        var start = 0
        while start < history.count {
            let flag = history[start].1
            var end = start
            while end < history.count, history[end].1 == flag { end += 1 }
            try feed(history[start..<end].map(\.0), isPrompt: flag, traces: traces, onToken: onToken)
            start = end
        }
    }

    /// A context shift, as llama.cpp does it: keeps the newest half of the text and rebuilds
    /// the caches by feeding it again (no traces: the caller has them already). The sampler's
    /// random stream goes on, so a seed still gives one text. Returns the tokens dropped.
    @discardableResult
    public func shiftContext() throws -> Int {
        let keep = capacity / 2
        let dropped = tokens.count - keep
        guard dropped > 0 else { return 0 }
        let kept = Array(zip(tokens, isPromptToken).suffix(keep))
        let total = droppedTokens + dropped
        tokens = kept.map(\.0)
        isPromptToken = kept.map(\.1)
        let capture = self.capture
        self.capture = []
        defer { self.capture = capture }
        try replay(traces: false) { _ in }
        droppedTokens = total
        return dropped
    }

    // MARK: - Generation

    /// Generates after `prompt` from an empty context: feeds the prompt, then samples and
    /// feeds tokens until an end token, a stop string, the token budget or the context
    /// limit. `onText` receives complete UTF-8 text as it becomes final (special tokens
    /// skipped, stop strings held back); `onTrace` every token's trace when tracing.
    public func generate(
        prompt: [Int], options: GenerationOptions, onText: (String) throws -> Void,
        onTrace: (TokenTrace) throws -> Void = { _ in }
    ) throws -> GenerationResult {
        try begin(prompt: prompt, options: options, onTrace: onTrace)
        while try next(onText: onText, onTrace: onTrace) == nil {}
        return try result()
    }

    /// Starts a generation: forgets the text, feeds `prompt` (its traces to `onTrace`).
    public func begin(prompt: [Int], options: GenerationOptions, onTrace: (TokenTrace) throws -> Void = { _ in }) throws {
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
        var run = Generation(options: options, shown: GeneratedText(tokenizer: tokenizer, stopStrings: options.stopStrings))
        let start = DispatchTime.now()
        for id in prompt { try run.shown.context(id) }
        try feed(prompt, isPrompt: true) { if let trace = $0.trace { try onTrace(trace) } }
        run.promptTokens = prompt.count
        run.promptSeconds = seconds(since: start)
        generation = run
    }

    /// Generates one token: samples it, and unless it ends the generation (an end token, a
    /// stop string in the text, the budget, a full context that may not shift), feeds it.
    /// Returns nil while generation goes on, else why it stopped (the text is then final).
    public func next(
        onText: (String) throws -> Void = { _ in }, onTrace: (TokenTrace) throws -> Void = { _ in }
    ) throws -> StopReason? {
        guard var run = generation else { throw EngineError("internal: no generation started") }
        if let reason = run.stopped { return reason }
        let start = DispatchTime.now()
        defer {
            run.generationSeconds += seconds(since: start)
            generation = run
        }
        func finish(_ reason: StopReason) throws -> StopReason {
            var reason = reason
            try run.shown.finish(&reason, onText: onText)
            run.stopped = reason
            return reason
        }
        guard run.generated.count < run.options.maxNewTokens else { return try finish(.maxTokens) }
        if tokens.count >= capacity {
            guard run.options.shiftsContext, capacity >= 2 else { return try finish(.contextLimit) }
            try shiftContext()
        }
        let token = try sample()
        if run.options.stopTokens.contains(token) { return try finish(.endOfSequence) }
        run.generated.append(token)
        try feed(CollectionOfOne(token), isPrompt: false) { if let trace = $0.trace { try onTrace(trace) } }
        if try run.shown.append(token, onText: onText) { return try finish(.stopString) }
        return nil
    }

    /// What the generation started by `begin` produced so far.
    public func result() throws -> GenerationResult {
        guard let run = generation else { throw EngineError("internal: no generation started") }
        return GenerationResult(
            promptTokens: run.promptTokens, generatedTokens: run.generated, text: run.shown.text,
            stopReason: run.stopped ?? .maxTokens, contextLimit: capacity, promptSeconds: run.promptSeconds,
            generationSeconds: run.generationSeconds)
    }

    private func named(_ candidate: Candidate) -> Candidate {
        Candidate(id: candidate.id, text: tokenizer.displayText(candidate.id), probability: candidate.probability)
    }
}

/// The state of one generation (`Session.begin` ... `next`).
private struct Generation {
    var options: GenerationOptions
    var shown: GeneratedText
    var generated: [Int] = []
    var promptTokens = 0
    var promptSeconds = 0.0
    var generationSeconds = 0.0
    var stopped: StopReason?
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
