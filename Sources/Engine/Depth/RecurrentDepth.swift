/// Recurrent depth (Geiping et al. 2025, "Huginn"; seal-rg/recurrent-pretraining;
/// docs/architectures.md 3.2, 4.6, 7): a prelude embeds the token, a core block is looped
/// r times on a state that starts random, each loop re-injecting the prelude output through
/// an adapter on [state, embedding], and a coda turns the final state into a prediction.
/// With an exit criterion the coda runs after every loop and the token stops once the
/// prediction (or the state) has converged. Later tokens read the latest loop an earlier
/// token ran (`latest` KV).
public enum RecurrentCriterion: String, Sendable, CaseIterable {
    /// Always run every loop.
    case none
    /// KL(q_i || q_{i-1}) < threshold.
    case kl
    /// |H(q_i) - H(q_{i-1})| < threshold.
    case entropyDiff = "entropy_diff"
    /// ||s_i - s_{i-1}|| / ||s_i|| < threshold.
    case latentDiff = "latent_diff"
    /// The argmax has stayed the same for more than `threshold` loops.
    case argmaxStable = "argmax_stable"

    public var comparison: ExitComparison { self == .argmaxStable ? .greater : .less }

    public var defaultThreshold: Double {
        switch self {
        case .none: 0
        case .kl: 5e-4
        case .entropyDiff: 1e-3
        case .latentDiff: 0.03
        case .argmaxStable: 2
        }
    }

    public var range: ClosedRange<Double> { self == .argmaxStable ? 1...Double.infinity : 0...Double.infinity }
}

extension DepthRunner {
    func runRecurrent(_ settings: RecurrentSettings) throws -> FloatVector {
        guard let adapter = source.weights.adapter else {
            throw EngineError("arch recurrent: the checkpoint has no model.adapter.weight")
        }
        let d = model.config.hiddenSize
        for index in schedule.pre { try runStep(index, hidden) }
        // The adapter's input [s, e]: the state in the first half, the prelude output e in
        // the second.
        let currentState = injection.pointer
        injection.pointer.advanced(by: d).update(from: hidden.pointer, count: d)
        RecurrentState.fill(currentState, seed: settings.seed, position: position, count: d, std: settings.stateStd)

        let maxSteps = schedule.count
        var exit: ExitDecision?
        var logits = state.logits
        var run = 0
        var previousArgmax = -1
        var loop = 0
        while loop < settings.loops, exit == nil {
            loop += 1
            adapter.multiply(injection.pointer, into: hidden.pointer)
            record.flops += Double(2 * adapter.rows * adapter.columns)
            for index in schedule.blocks[loop - 1] { try runStep(index, hidden) }
            // s_{i-1} is kept for latent_diff; s_i (the core output) becomes the state.
            previousHidden.pointer.update(from: currentState, count: d)
            currentState.update(from: hidden.pointer, count: d)

            if settings.codaEveryLoop || loop == settings.loops {
                for index in schedule.codas[loop - 1] { try runStep(index, hidden) }
                logits = headLogits(hidden)
                swap(&logProbabilities, &previousLogProbabilities)
                logSoftmax(logits, into: logProbabilities)
            }
            var value: Double?
            switch settings.criterion {
            case .latentDiff:
                value = relativeDifference(currentState, previousHidden.pointer, count: d)
            case .kl where loop > 1:
                value = klDivergence(logProbabilities, from: previousLogProbabilities)
            case .entropyDiff where loop > 1:
                value = abs(entropy(logProbabilities) - entropy(previousLogProbabilities))
            case .argmaxStable:
                let top = argmax(logProbabilities)
                run = loop > 1 && top == previousArgmax ? run + 1 : 1
                previousArgmax = top
                value = Double(run)
            default:
                value = nil
            }
            scoreLastStep(value.map(Float.init))
            if loop > 1, loop >= settings.minSteps, let value, settings.criterion.comparison.passes(value, settings.threshold) {
                exit = ExitDecision(
                    reason: "converged", criterion: settings.criterion.rawValue, score: Float(value),
                    threshold: Float(settings.threshold), steps: record.steps.count, maxSteps: maxSteps)
            } else if loop == settings.loops {
                let named = settings.criterion != .none
                exit = ExitDecision(
                    reason: "full_depth", criterion: named ? settings.criterion.rawValue : nil, score: value.map(Float.init),
                    threshold: named ? Float(settings.threshold) : nil, steps: record.steps.count, maxSteps: maxSteps)
            }
        }
        try carryLatest(loopsRun: loop, totalLoops: settings.loops)
        record.exit = exit ?? ExitDecision(reason: "full_depth", steps: record.steps.count, maxSteps: maxSteps)
        return logits
    }
}

/// ||a - b|| / ||a|| (L2) over `count` values.
func relativeDifference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var difference: Double = 0
    var norm: Double = 0
    for i in 0..<count {
        let delta = Double(a[i] - b[i])
        difference += delta * delta
        norm += Double(a[i]) * Double(a[i])
    }
    return difference.squareRoot() / max(norm.squareRoot(), 1e-30)
}

/// The deterministic random initial state s_0 (section 7): splitmix64 + Box-Muller keyed
/// by (seed, position, element), so every path draws the same float32 values.
public enum RecurrentState {
    static func mix64(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The n-th splitmix64 output (n >= 1) started at `seed`.
    static func splitmix(_ seed: UInt64, _ n: UInt64) -> UInt64 {
        mix64(seed &+ n &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Standard normal draw for (seed, position, element).
    public static func normal(seed: UInt64, position: Int, element: Int, hiddenSize: Int) -> Double {
        let n = 2 * (UInt64(position) &* UInt64(hiddenSize) &+ UInt64(element)) &+ 1
        let u1 = Double((splitmix(seed, n) >> 11) + 1) * 0x1p-53
        let u2 = Double(splitmix(seed, n &+ 1) >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// s_0 for one position into `out` (`count` = hidden size).
    public static func fill(_ out: UnsafeMutablePointer<Float>, seed: UInt64, position: Int, count: Int, std: Double) {
        for element in 0..<count {
            out[element] = Float(std * normal(seed: seed, position: position, element: element, hiddenSize: count))
        }
    }

    /// s_0 for one position as an array.
    public static func values(seed: UInt64, position: Int, hiddenSize: Int, std: Double) -> [Float] {
        (0..<hiddenSize).map { Float(std * normal(seed: seed, position: position, element: $0, hiddenSize: hiddenSize)) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
