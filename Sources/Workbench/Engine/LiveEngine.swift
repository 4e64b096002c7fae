import Foundation
import Engine

/// The workbench's live engine: an adapter from `WorkbenchEngine` to Engine's `Session`.
///
/// Each run gets its own thread and its own `Session` (a `Session` is single-threaded, and
/// A/B compare runs two at once). What is slow to make is shared: a model's weights and
/// tokenizer are read from disk once and kept, so switching the architecture, the sampler
/// or the prompt, or restarting, starts generating again at once. Building a `Session` on
/// loaded weights only allocates its caches (and, for `convert`, ties the layers in
/// memory, which `Session.switchArchitecture` would have to do as well).
///
/// A run feeds the prompt (shown even when paused, as a replay shows it), then samples one
/// token per `RunGate` move until the token budget or an end-of-text token ends it; a full
/// context is shifted (`shiftContext`). Same model, architecture, prompt, sampler and seed:
/// same tokens.
public final class LiveEngine: WorkbenchEngine, @unchecked Sendable {
    /// A model as loaded from disk. Both parts are immutable and shared by every run.
    struct Loaded: Sendable {
        let folder: String
        let model: DepthModel
        let tokenizer: any Tokenizer
    }

    // `cache` and `lastModel` are guarded by `lock`; `loading` serialises disk reads so
    // two runs asking for the same model at once read it once. The UI thread only ever
    // takes `lock`, and never while a model is being read.
    private let lock = NSLock()
    private let loading = NSLock()
    private var cache: [String: Loaded] = [:]
    private var lastModel: String?
    private let environment: [String: String]
    /// Seconds between generated tokens while running (0: as fast as the machine goes).
    private let pace: TimeInterval
    private var loadCount = 0
    private var threads = 0
    /// Threads each run's matrix products use (nil: `RunSetup.threads`' default for the model).
    private let computeThreads: Int?
    /// The weight format every model's matrices are converted to as it loads (`--quantize`).
    private let quantize: WeightFormat?

    /// `environment` decides where bare model names are looked up (`ModelLocator`).
    /// `tokensPerSecond` caps the pace of generation (a demo that is easy to follow);
    /// nil runs as fast as the machine goes.
    /// `threads`: how many threads each run's matrix products use (default: `RunSetup.threads` for the model).
    /// `quantize`: the weight format models are converted to as they load (default: as stored).
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, tokensPerSecond: Double? = nil,
        threads: Int? = nil, quantize: WeightFormat? = nil
    ) {
        self.environment = environment
        computeThreads = threads
        self.quantize = quantize
        pace = tokensPerSecond.map { $0 > 0 && $0.isFinite ? 1 / $0 : 0 } ?? 0
    }

    public var capabilities: EngineCapabilities { .live }

    /// The model folders found by `ModelLocator` (`$DEPTHSCOPE_MODELS`, ./models, the repository's models/).
    public func models() -> [String] {
        ModelLocator.availableNames(environment: environment)
    }

    /// The catalog's architectures. Once the current model is loaded, only those it can run,
    /// with the defaults it gives them (as `depthscope archs --model` shows them).
    public func architectures() -> [ArchitectureChoice] {
        lock.lock()
        let current = lastModel.flatMap { cache[$0] }
        lock.unlock()
        return ArchitectureCatalog.entries.compactMap { entry in
            guard let model = current?.model else {
                let needs = entry.needs.map { " (needs config.json \"\($0)\")" } ?? ""
                return ArchitectureChoice(
                    name: entry.name, summary: entry.summary + needs,
                    options: entry.options.map { RunOption($0.name, $0.defaultValue) })
            }
            guard let resolved = try? Architecture.resolve(entry.name, options: [], for: model) else { return nil }
            return ArchitectureChoice(
                name: entry.name, summary: entry.summary, options: resolved.options.map { RunOption($0.key, $0.value) })
        }
    }

    /// How many times a model was read from disk (the cache's effect, for tests).
    var modelLoads: Int {
        lock.lock(); defer { lock.unlock() }
        return loadCount
    }

    /// Run threads that have not returned yet (a stopped or superseded run's thread ends
    /// at its next token; for tests).
    var runningThreads: Int {
        lock.lock(); defer { lock.unlock() }
        return threads
    }

    public func startRun(_ settings: RunSettings, paused: Bool, sink: RunSink) -> any EngineRun {
        let gate = RunGate(paused: paused)
        lock.lock()
        threads += 1
        lock.unlock()
        let thread = Thread { [self] in
            defer {
                lock.lock()
                threads -= 1
                lock.unlock()
            }
            do {
                try generate(settings, gate: gate, sink: sink)
            } catch let error as EngineError {
                sink.post(.failed(error))
            } catch {
                sink.post(.failed(EngineError("\(settings.model): \(error)")))
            }
        }
        thread.name = "depthscope run \(sink.slot.label)"
        // The engine keeps its buffers on the heap, but a roomy stack costs nothing unused.
        thread.stackSize = 8 << 20
        thread.start()
        return gate
    }

    // MARK: The run

    private func generate(_ settings: RunSettings, gate: RunGate, sink: RunSink) throws {
        let loaded = try load(settings.model)
        let model = loaded.model
        let architecture = try resolve(settings.architecture, for: model)
        let sampling = sampling(settings.sampler)
        try sampling.validate()
        let prompt = try encode(settings, loaded)
        try checkBudget(settings.maxNewTokens)
        let session = try Session(
            model: model, tokenizer: loaded.tokenizer, architecture: architecture, sampling: sampling,
            capture: .all, tracing: true,
            capacity: RunSetup.capacity(model: model, promptTokens: prompt.count, maxNewTokens: settings.maxNewTokens),
            threads: RunSetup.threads(computeThreads, for: model))
        let options = GenerationOptions(
            maxNewTokens: settings.maxNewTokens, sampling: sampling,
            stopTokens: RunSetup.stopTokens(model: model, tokenizer: loaded.tokenizer), shiftsContext: true)

        guard sink.isCurrent, !gate.isStopped else { return }
        sink.post(.started(describe(settings.model, model, architecture)))
        do {
            // The prompt goes through in batches; a superseded run stops between them, so a
            // long prompt never delays the next run for long.
            try session.begin(prompt: prompt, options: options) { trace in
                guard sink.isCurrent, !gate.isStopped else { throw Superseded() }
                sink.post(.token(trace))
            }
        } catch is Superseded {
            return
        }
        var made = 0
        while true {
            // The budget's end is reported at once; every other token waits for the gate.
            if made < settings.maxNewTokens {
                guard let move = gate.next(interval: pace), sink.isCurrent else { return }
                guard move == .forward else { continue }  // no step back: `capabilities` lacks it
            }
            if let reason = try session.next(onTrace: { sink.post(.token($0)) }) {
                let result = try session.result()
                let speed = rate(result.generatedTokens.count, result.generationSeconds)
                switch reason {
                case .endOfSequence: sink.post(.finished("end of text" + speed))
                case .contextLimit: sink.post(.finished("context full (\(session.capacity) tokens)" + speed))
                case .maxTokens, .stopString: sink.post(.finished("\(result.generatedTokens.count) tokens" + speed))
                }
                return
            }
            made += 1
        }
    }

    /// Thrown from a run's trace callback to stop a superseded run between batches.
    private struct Superseded: Error {}

    /// Generated tokens per second of wall time spent generating (pauses left out): the
    /// speed inside the workbench, to compare with `depthscope generate --stats`.
    private func rate(_ tokens: Int, _ seconds: Double) -> String {
        guard tokens > 0, seconds > 0 else { return "" }
        return String(format: " · %.0f tokens/s", Double(tokens) / seconds)
    }

    /// Loads the model and checks everything else in `settings` the way a run would, so
    /// the command line can report bad input as one line before the screen changes.
    public func check(_ settings: RunSettings) throws {
        let loaded = try load(settings.model)
        _ = try resolve(settings.architecture, for: loaded.model)
        try sampling(settings.sampler).validate()
        _ = try encode(settings, loaded)
        try checkBudget(settings.maxNewTokens)
    }

    private func checkBudget(_ tokens: Int) throws {
        guard tokens >= 0 else { throw EngineError("max tokens \(tokens): must be 0 or more") }
    }

    // MARK: Models, architectures, prompts

    /// The model named `name`, from the cache or read from disk once.
    func load(_ name: String) throws -> Loaded {
        let folder = try ModelLocator.resolve(name, environment: environment)
        let key = (folder as NSString).standardizingPath
        if let hit = cached(key) { return hit }
        loading.lock()
        defer { loading.unlock() }
        if let hit = cached(key) { return hit }
        let (model, tokenizer) = try RunSetup.load(folder: folder, quantize: quantize)
        let loaded = Loaded(folder: folder, model: model, tokenizer: tokenizer)
        lock.lock()
        cache[key] = loaded
        lastModel = key
        loadCount += 1
        lock.unlock()
        return loaded
    }

    private func cached(_ key: String) -> Loaded? {
        lock.lock(); defer { lock.unlock() }
        guard let hit = cache[key] else { return nil }
        lastModel = key
        return hit
    }

    private func sampling(_ s: SamplerSettings) -> SamplingParameters {
        SamplingParameters(temperature: s.temperature, topK: s.topK, topP: s.topP, minP: s.minP,
                           repetitionPenalty: s.repetitionPenalty, seed: s.seed)
    }

    /// `spec` (`mor threshold=0.6`; empty: the checkpoint's own) checked against `model`.
    private func resolve(_ spec: String, for model: DepthModel) throws -> Architecture {
        guard !spec.trimmingCharacters(in: .whitespaces).isEmpty else { return try Architecture.defaultFor(model) }
        let parsed = try ArchitectureSpec.parse(spec)
        return try Architecture.resolve(
            parsed.name, options: parsed.options.map { ArchitectureOption($0.key, $0.value) }, for: model)
    }

    /// The prompt's ids, with the tokenizer's special tokens (BOS), checked against the model.
    /// The prompt's ids: the text with the tokenizer's special tokens, or as a chat message
    /// through the model's chat template.
    private func encode(_ settings: RunSettings, _ loaded: Loaded) throws -> [Int] {
        guard settings.chat else {
            return try RunSetup.promptIds(settings.prompt, tokenizer: loaded.tokenizer, model: loaded.model, what: "prompt")
        }
        return try RunSetup.chatPromptIds(
            settings.prompt, system: nil, model: loaded.folder, tokenizer: loaded.tokenizer, depthModel: loaded.model,
            what: "chat")
    }

    private func describe(_ name: String, _ model: DepthModel, _ architecture: Architecture) -> RunInfo {
        let config = model.config
        let displayName = name.contains("/") ? (model.folder as NSString).lastPathComponent : name
        return RunInfo(
            model: displayName, architecture: architecture.name,
            options: architecture.options.map { RunOption($0.key, $0.value) },
            routing: architecture.routing, maxDepth: architecture.maxDepth,
            details: [
                RunOption("parameters", Format.compact(Double(model.model.parameterCount))),
                RunOption("layers", "\(config.numHiddenLayers)"),
                RunOption("hidden", "\(config.hiddenSize)"),
                RunOption("context", "\(config.maxPositionEmbeddings)"),
                RunOption("dtype", model.model.matrixDTypes.joined(separator: "+")),
            ],
            pacedTokensPerSecond: pace > 0 ? 1 / pace : nil)
    }
}
