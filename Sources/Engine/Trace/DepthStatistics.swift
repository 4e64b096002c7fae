/// Depth and compute over many tokens, from their records or traces: mean depth, the share
/// that stopped before full depth, and FLOPs against full depth. One definition for
/// `generate --stats`, `eval`, `bench` and the workbench's panes.
public struct DepthStatistics: Sendable, Equatable {
    public private(set) var tokens = 0
    /// Depth steps executed, summed over the tokens.
    public private(set) var steps = 0
    /// Tokens that ran fewer steps than the architecture's full depth.
    public private(set) var early = 0
    public private(set) var flops = 0.0
    public private(set) var fullDepthFlops = 0.0
    /// The most steps any token could have run.
    public private(set) var maxSteps = 0

    public init() {}

    public mutating func add(steps: Int, maxSteps: Int, flops: Double, fullDepthFlops: Double) {
        tokens += 1
        self.steps += steps
        if steps < maxSteps { early += 1 }
        self.flops += flops
        self.fullDepthFlops += fullDepthFlops
        self.maxSteps = max(self.maxSteps, maxSteps)
    }

    public mutating func add(_ record: TokenRecord) {
        add(steps: record.steps.count, maxSteps: record.exit.maxSteps, flops: record.flops, fullDepthFlops: record.fullDepthFlops)
    }

    public mutating func add(_ trace: TokenTrace) {
        add(steps: trace.depth, maxSteps: trace.exit.maxSteps, flops: trace.flops, fullDepthFlops: trace.fullDepthFlops)
    }

    public var meanDepth: Double { tokens > 0 ? Double(steps) / Double(tokens) : 0 }
    public var earlyFraction: Double { tokens > 0 ? Double(early) / Double(tokens) : 0 }
    /// FLOPs spent over FLOPs at full depth (0 before any).
    public var flopsRatio: Double { fullDepthFlops > 0 ? flops / fullDepthFlops : 0 }
}
