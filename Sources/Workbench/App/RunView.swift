import Engine

/// Where a run stands, as the top bar shows it.
public enum RunStatus: Equatable, Sendable {
    case loading, running, paused
    case finished(String)
    case failed(String)

    /// Finished or failed: the run makes no more tokens.
    public var isOver: Bool {
        switch self {
        case .finished, .failed: return true
        default: return false
        }
    }

    public var label: String {
        switch self {
        case .loading: return "loading"
        case .running: return "running"
        case .paused: return "paused"
        case let .finished(why): return "finished: \(why)"
        case .failed: return "error"
        }
    }
}

/// Everything the workbench knows about one run: its settings, what the engine said it
/// is, and the tokens received so far.
public struct RunView: Sendable {
    public var settings: RunSettings
    public var info: RunInfo?
    public var status: RunStatus = .loading
    public private(set) var tokens: [TokenTrace] = []
    public private(set) var stats = RunStats()
    /// Which run this is (a restart is a new run) and how often it stepped back: what
    /// cached layouts of its tokens are keyed by.
    public let serial: Int
    public private(set) var retractions = 0

    public init(settings: RunSettings, serial: Int = 0) {
        self.settings = settings
        self.serial = serial
    }

    public mutating func append(_ token: TokenTrace) {
        tokens.append(token)
        stats.add(token)
    }

    public mutating func retract() {
        guard !tokens.isEmpty else { return }
        tokens.removeLast()
        retractions += 1
        stats = RunStats(tokens)
    }

    /// The most steps a token can take: from the engine, else from the tokens.
    public var maxDepth: Int {
        max(info?.maxDepth ?? 0, stats.maxSteps, 1)
    }
}

/// Running totals for the Throughput pane, kept incrementally so a frame costs nothing
/// per token already seen.
public struct RunStats: Sendable, Equatable {
    /// Depth and FLOPs over every token so far (Engine's one definition).
    public private(set) var depth = DepthStatistics()
    public private(set) var generatedCount = 0
    public private(set) var kvCacheBytes = 0
    /// Milliseconds per generated token, in order (prompt tokens when none generated yet).
    public private(set) var generatedMs: [Double] = []
    public private(set) var promptMs: [Double] = []

    public init() {}

    public init(_ tokens: [TokenTrace]) {
        for t in tokens { add(t) }
    }

    public mutating func add(_ t: TokenTrace) {
        depth.add(t)
        kvCacheBytes = t.kvCacheBytes
        if t.isPrompt { promptMs.append(t.timeMs) } else { generatedCount += 1; generatedMs.append(t.timeMs) }
    }

    public var tokenCount: Int { depth.tokens }
    public var maxSteps: Int { depth.maxSteps }
    public var meanDepth: Double { depth.meanDepth }

    /// Fraction of full-depth compute not spent (nil before any FLOPs are reported).
    public var computeSaved: Double? {
        depth.fullDepthFlops > 0 ? 1 - depth.flopsRatio : nil
    }

    /// Milliseconds per token over the last `window` tokens.
    public func msPerToken(window: Int = 16) -> Double? {
        let source = generatedMs.isEmpty ? promptMs : generatedMs
        let recent = source.suffix(window)
        guard !recent.isEmpty else { return nil }
        return recent.reduce(0, +) / Double(recent.count)
    }

    /// Tokens per second now: from the engine's own per-token times, so a replay shows the
    /// recorded speed and a slow UI never distorts it.
    public func tokensPerSecond(window: Int = 16) -> Double? {
        guard let ms = msPerToken(window: window), ms > 0 else { return nil }
        return 1000 / ms
    }

    /// Tokens per second after each generated token (smoothed over 4), for the sparkline.
    public func throughputHistory(last count: Int) -> [Double] {
        let source = generatedMs.isEmpty ? promptMs : generatedMs
        let start = max(0, source.count - count)
        var out: [Double] = []
        out.reserveCapacity(source.count - start)
        for i in start..<source.count {
            let window = source[max(0, i - 3)...i]
            let ms = window.reduce(0, +) / Double(window.count)
            out.append(ms > 0 ? 1000 / ms : 0)
        }
        return out
    }
}
