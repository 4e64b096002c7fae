/// After each depth step, does this token go on? (docs/architectures.md section 4)
/// The per-token logic of each policy lives in its own file as an extension of
/// `DepthRunner`: MixtureOfRecursions.swift, EarlyExit.swift, UniversalTransformer.swift,
/// RecurrentDepth.swift; the fixed policy is in DepthRunner.swift.
public enum DepthPolicy: Sendable, Equatable {
    /// Every step of the schedule (vanilla, recursive, relaxed, convert).
    case fixed
    /// MoR expert-choice: a sigmoid router after each recursion block; continue while the
    /// score is >= threshold.
    case mixtureExpert(threshold: Double)
    /// MoR token-choice: one softmax router picks the number of recursions up front.
    case mixtureToken
    case earlyExit(EarlyExitSettings)
    /// Universal Transformer ACT halting.
    case act(ACTSettings)
    case recurrent(RecurrentSettings)
}

/// Section 4.4.
public struct EarlyExitSettings: Sendable, Equatable {
    public var criterion: EarlyExitCriterion
    public var threshold: Double
    /// 1-based step counts: never exit before `minDepth`, always stop at `maxDepth`.
    public var minDepth: Int
    public var maxDepth: Int
}

/// Section 4.5.
public struct ACTSettings: Sendable, Equatable {
    public var maxSteps: Int
    public var epsilon: Double
    /// Halt once the cumulative halting probability reaches this (1 - epsilon, in f32 as
    /// the reference compares it).
    public var limit: Float { Float(1 - epsilon) }
}

/// Sections 3.2, 4.6 and 7.
public struct RecurrentSettings: Sendable, Equatable {
    public var prelude: Int
    public var core: Int
    public var coda: Int
    /// r: loops of the core at full depth.
    public var loops: Int
    public var criterion: RecurrentCriterion
    public var threshold: Double
    public var minSteps: Int
    public var seed: UInt64
    public var stateStd: Double

    /// With an exit criterion the coda runs after every loop to give a prediction.
    public var codaEveryLoop: Bool { criterion != .none }
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
}
