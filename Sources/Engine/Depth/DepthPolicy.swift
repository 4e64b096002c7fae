/// After each depth step, does this token go on? (docs/architectures.md section 4)
///
/// A policy drives a batch of tokens through the schedule with the runner's primitives
/// (`DepthRunner.runStep`, `headLogits`, `stop`, ...): at each step the tokens still going
/// run together; the policy decides per token, records its scores and exit, and says what
/// a stopped token leaves for later steps. Each policy lives with its architecture in
/// Architectures/; the fixed one (every step) is here.
public protocol DepthPolicy: Sendable {
    /// One line saying how depth is decided.
    func routing(_ architecture: Architecture) -> String
    /// Runs the runner's batch through the schedule.
    func run(_ batch: DepthRunner) throws
    /// FLOPs every token pays at full depth beyond its steps and the head (routers,
    /// halting units, adapters).
    func fullDepthExtraFlops(model: Model, weights: DepthWeights) -> Double
    /// Throws unless the checkpoint has the tensors the policy needs.
    func check(_ model: DepthModel, _ schedule: Schedule) throws
    /// Vocabulary-sized log-probability rows a token needs (per-step predictions compared
    /// across steps: 2; none: 0).
    var predictionBuffers: Int { get }
}

extension DepthPolicy {
    public func fullDepthExtraFlops(model: Model, weights: DepthWeights) -> Double { 0 }
    public func check(_ model: DepthModel, _ schedule: Schedule) throws {}
    public var predictionBuffers: Int { 0 }
}

/// Every step of the schedule for every token (vanilla, recursive, relaxed, convert).
public struct FixedDepth: DepthPolicy {
    public init() {}

    public func routing(_ architecture: Architecture) -> String { "full depth, \(architecture.schedule.count) steps" }

    public func run(_ batch: DepthRunner) throws {
        let steps = batch.schedule.count
        for index in 0..<steps { try batch.runStep(index, nil, batch.hidden) }
        for token in 0..<batch.count {
            batch.setExit(token, ExitDecision(reason: .fullDepth, steps: steps, maxSteps: steps))
            batch.addFlops(token, batch.model.logitsFlops)
        }
    }
}

/// What a criterion's value is compared with: exit when it is above (`greater`) or below.
public enum ExitComparison: Sendable {
    case greater
    case less

    func passes(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .greater: value > threshold
        case .less: value < threshold
        }
    }

    var sign: String { self == .greater ? ">" : "<" }
}
