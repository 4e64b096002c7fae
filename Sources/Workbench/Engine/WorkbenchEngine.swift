import Engine

// The contract between the workbench and whatever produces token traces: the live engine
// (`LiveEngine`, an adapter over Engine's Session), `depthscope replay` (`ReplayEngine`),
// and the deterministic fake the tests use.
//
// The workbench owns the settings. Everything that changes the tokens (prompt, model,
// architecture, sampler, seed) is a new `RunSettings`; applying it stops the current run
// and starts a new one, so "switch the architecture while it runs" is `startRun` with the
// same prompt and seed and a new `architecture`. A/B compare is simply two runs at once.
//
// Threading: the workbench calls every method here from its UI thread and expects each to
// return at once. A run does its work on its own thread and reports through its
// `RunSink`, which is cheap and safe to call from any thread. `RunGate` implements the
// run controls (pause, single-step, stop) for engines that produce one token per loop.
//
/// What an engine is asked to run.
public struct RunSettings: Equatable, Sendable {
    /// Model name as `WorkbenchEngine.models()` lists it (or a path the engine accepts).
    public var model: String
    /// Architecture spec: a name and `key=value` options, e.g. `mor threshold=0.6`
    /// (see `ArchitectureSpec`). Empty means the model's own architecture.
    public var architecture: String
    public var prompt: String
    /// The prompt is a user message, rendered with the model's chat template (instruct models).
    public var chat: Bool
    public var sampler: SamplerSettings
    /// The run finishes after this many generated tokens.
    public var maxNewTokens: Int

    public init(model: String, architecture: String, prompt: String, chat: Bool = false,
                sampler: SamplerSettings = SamplerSettings(), maxNewTokens: Int = 400) {
        self.model = model
        self.architecture = architecture
        self.prompt = prompt
        self.chat = chat
        self.sampler = sampler
        self.maxNewTokens = maxNewTokens
    }
}

/// Sampling settings. Same settings and seed give the same tokens.
public struct SamplerSettings: Equatable, Sendable {
    /// 0 means greedy.
    public var temperature: Float = 0.8
    /// 0 means off.
    public var topK: Int = 0
    /// 1 means off.
    public var topP: Float = 1
    /// 0 means off.
    public var minP: Float = 0
    /// 1 means off.
    public var repetitionPenalty: Float = 1
    public var seed: UInt64 = 42

    public init(temperature: Float = 0.8, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, seed: UInt64 = 42) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }
}

/// What a run turned out to be, reported once it has loaded: shown by the Model pane and
/// the Depth pane's header.
public struct RunInfo: Equatable, Sendable {
    /// Display name of the model.
    public var model: String
    /// The architecture's name (e.g. `mor`).
    public var architecture: String
    /// Every option in effect, defaults included, in a stable order.
    public var options: [RunOption]
    /// One line saying how depth is decided, with capacity or threshold, e.g.
    /// `expert-choice router · threshold 0.50` or `full depth`.
    public var routing: String
    /// Most depth steps any token can take.
    public var maxDepth: Int
    /// Extra facts about the model for the Model pane (`parameters 1.2M`, `dtype f16`...).
    public var details: [RunOption]
    /// Tokens per second the run is held to for a demo (`--speed`); nil when it runs free.
    /// The Throughput pane shows it beside the engine's own speed, so neither hides the other.
    public var pacedTokensPerSecond: Double?

    public init(model: String, architecture: String, options: [RunOption] = [], routing: String,
                maxDepth: Int, details: [RunOption] = [], pacedTokensPerSecond: Double? = nil) {
        self.pacedTokensPerSecond = pacedTokensPerSecond
        self.model = model
        self.architecture = architecture
        self.options = options
        self.routing = routing
        self.maxDepth = maxDepth
        self.details = details
    }

    /// The architecture as a spec string (`name key=value ...`).
    public var architectureSpec: String {
        ArchitectureSpec(name: architecture, options: options.map { ($0.key, $0.value) }).description
    }
}

/// A key and its value, shown as they are.
public struct RunOption: Equatable, Sendable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// An architecture the user can pick, with the options it takes.
public struct ArchitectureChoice: Equatable, Sendable {
    public var name: String
    public var summary: String
    /// Option names with their default values.
    public var options: [RunOption]

    public init(name: String, summary: String, options: [RunOption] = []) {
        self.name = name
        self.summary = summary
        self.options = options
    }
}

/// What an engine lets the user change. The workbench hides or refuses what is missing.
public struct EngineCapabilities: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let editPrompt = EngineCapabilities(rawValue: 1 << 0)
    public static let sampling = EngineCapabilities(rawValue: 1 << 1)
    public static let switchModel = EngineCapabilities(rawValue: 1 << 2)
    /// `EngineRun.stepBack()` takes back the last token (replay).
    public static let stepBack = EngineCapabilities(rawValue: 1 << 3)

    public static let live: EngineCapabilities = [.editPrompt, .sampling, .switchModel]
}

/// What a run reports, in order: `started` once, then `token`s (and `retracted` when a
/// step back takes the last one away), then at most one of `finished` or `failed`.
/// A run that is paused or stepped back after `finished` may continue with more tokens.
public enum RunEvent: Sendable {
    case started(RunInfo)
    /// Prompt tokens first, then generated ones, positions counting up from 0.
    case token(TokenTrace)
    /// The last token was taken back.
    case retracted
    /// Generation ended normally; the string says why (`400 tokens`, `end of text`...).
    case finished(String)
    /// The run cannot go on; the message is one line (shown in the UI, not a crash).
    case failed(EngineError)
}

/// Controls of one running generation. All methods return at once.
public protocol EngineRun: AnyObject, Sendable {
    func resume()
    func pause()
    /// Produce exactly one more token, then stay paused.
    func stepForward()
    /// Take back the last token (only when the engine has `.stepBack`), then stay paused.
    func stepBack()
    /// End the run; its sink drops anything posted afterwards.
    func stop()
}

/// The engine as the workbench drives it.
public protocol WorkbenchEngine: AnyObject, Sendable {
    var capabilities: EngineCapabilities { get }
    /// Model names for the Model pane and `:model`.
    func models() -> [String]
    /// Architectures for the Model pane and `:arch`.
    func architectures() -> [ArchitectureChoice]
    /// Starts a run on its own thread and returns its controls at once. Loading, bad
    /// settings and every later problem arrive through `sink` as `.failed`. When `paused`,
    /// the run loads and reports `.started` but makes no token until resumed or stepped.
    func startRun(_ settings: RunSettings, paused: Bool, sink: RunSink) -> any EngineRun
}
