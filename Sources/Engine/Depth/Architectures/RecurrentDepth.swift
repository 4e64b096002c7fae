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

/// `recurrent`: recurrent depth on a checkpoint with `recurrent_depth` (the depthscope
/// format) or a released Huginn checkpoint (`huginn_raven`).
public enum RecurrentDepth: ArchitectureKind {
    public static let name = "recurrent"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "recurrent depth: prelude, core looped r times with input injection, coda",
        needs: "recurrent_depth",
        options: [
            ArchitectureCatalog.Option(
                name: "steps", range: "1..config max_recurrence", defaultValue: "config mean_recurrence",
                help: "r: loops of the core"),
            ArchitectureCatalog.Option(
                name: "criterion", range: "none|kl|entropy_diff|latent_diff|argmax_stable",
                defaultValue: "config exit_criterion, else none",
                help: "exit once KL < t, |entropy change| < t, relative state change < t, or argmax unchanged > t loops"),
            ArchitectureCatalog.Option(
                name: "threshold", range: ">= 0; argmax_stable whole >= 1",
                defaultValue: "config exit_threshold, else 5e-4, 1e-3, 0.03, 2 by criterion", help: "the criterion's threshold"),
            ArchitectureCatalog.Option(name: "min_steps", range: "1..steps", defaultValue: "1", help: "never exit before this many loops"),
            ArchitectureCatalog.Option(
                name: "seed", range: "0..2^64-1", defaultValue: "config state_init_seed", help: "seed of the random initial state"),
            ArchitectureCatalog.Option(
                name: "state_init_std", range: ">= 0", defaultValue: "config state_init_std, else 1",
                help: "standard deviation of the random initial state (0: a zero state)"),
        ])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        guard let recurrent = model.depth.recurrentDepth else {
            throw options.missing("recurrent_depth", "prelude/core/coda and adapter", in: model)
        }
        let loops = try options.int("steps", default: recurrent.meanRecurrence, min: 1, max: recurrent.maxRecurrence)
        let criterionName = try options.choice(
            "criterion", default: recurrent.exitCriterion, RecurrentCriterion.allCases.map(\.rawValue))
        let criterion = RecurrentCriterion(rawValue: criterionName) ?? .none
        var defaultThreshold = criterion.defaultThreshold
        if criterionName == recurrent.exitCriterion, let configured = recurrent.exitThreshold {
            defaultThreshold = configured
        }
        let threshold = try options.double(
            "threshold", default: defaultThreshold, low: criterion.range.lowerBound, high: criterion.range.upperBound,
            whole: criterion == .argmaxStable ? criterion.rawValue : nil)
        let minSteps = try options.int("min_steps", default: 1, min: 1, max: loops)
        let seed = try options.uint64("seed", default: recurrent.stateInitSeed)
        let std = try options.double("state_init_std", default: recurrent.stateInitStd, low: 0, high: .infinity)
        let settings = RecurrentSettings(
            prelude: recurrent.prelude, core: recurrent.core, coda: recurrent.coda, loops: loops, criterion: criterion,
            threshold: threshold, minSteps: minSteps, seed: seed, stateStd: std)
        return Architecture(
            name: name, policy: settings, kv: .latest,
            schedule: .recurrent(
                prelude: settings.prelude, core: settings.core, coda: settings.coda, loops: loops,
                codaEveryLoop: settings.codaEveryLoop),
            options: options.inEffect)
    }
}

/// Sections 3.2, 4.6 and 7: the prelude runs once, then each loop injects [state, prelude
/// output] through the adapter and runs the core; the coda turns the state into a
/// prediction (after every loop when an exit criterion needs one).
public struct RecurrentSettings: DepthPolicy, Equatable {
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

    public var predictionBuffers: Int { 2 }

    public func routing(_ architecture: Architecture) -> String {
        guard criterion != .none else { return "recurrent depth, \(loops) loops" }
        return "recurrent depth, up to \(loops) loops, exit \(criterion.rawValue) \(criterion.comparison.sign) \(Architecture.format(threshold))"
    }

    public func check(_ model: DepthModel, _ schedule: Schedule) throws {
        guard model.weights.adapter != nil else {
            throw EngineError("arch recurrent: \(model.folder): the checkpoint has no adapter weight")
        }
    }

    public func fullDepthExtraFlops(model: Model, weights: DepthWeights) -> Double {
        let d = Double(model.config.hiddenSize)
        return Double(loops) * 2 * 2 * d * d + (codaEveryLoop ? Double(loops - 1) * model.logitsFlops : 0)
    }

    public func run(_ batch: DepthRunner) throws {
        guard let adapter = batch.source.weights.adapter else {
            throw EngineError("arch recurrent: the checkpoint has no adapter weight")
        }
        let schedule = batch.schedule, n = batch.count
        let d = batch.model.config.hiddenSize, vocabulary = batch.model.config.vocabSize
        for index in schedule.pre { try batch.runStep(index, nil, batch.hidden) }
        // The adapter's input per token [s, e]: the state in the first half, the prelude
        // output e in the second.
        batch.running.removeAll(keepingCapacity: true)
        for token in 0..<n {
            let injection = batch.injection.pointer + token * 2 * d
            (injection + d).update(from: batch.row(batch.hidden, token), count: d)
            RecurrentState.fill(injection, seed: seed, position: batch.start + token, count: d, std: stateStd)
            batch.running.append(token)
        }
        for loop in 1...loops {
            let running = batch.running
            if !running.isEmpty {
                let inputs = batch.gather(running, batch.injection, width: 2 * d)
                adapter.multiply(inputs, xStride: 2 * d, tokens: running.count, into: batch.branch.pointer, yStride: d)
                for (r, token) in running.enumerated() {
                    batch.row(batch.hidden, token).update(from: batch.branch.pointer + r * d, count: d)
                    batch.addFlops(token, Double(2 * adapter.rows * adapter.columns))
                }
            }
            for index in schedule.blocks[loop - 1] { try batch.runStep(index, running, batch.hidden) }
            // s_{i-1} is kept for latent_diff; s_i (the core output) becomes the state.
            for token in running {
                let state = batch.injection.pointer + token * 2 * d
                batch.row(batch.previousHidden, token).update(from: state, count: d)
                state.update(from: batch.row(batch.hidden, token), count: d)
            }
            let predicts = codaEveryLoop || loop == loops
            if predicts {
                if batch.model.config.normBeforeCoda {
                    for token in running {
                        let state = batch.row(batch.hidden, token)
                        rmsNorm(state, weight: batch.model.finalNorm.pointer, epsilon: batch.model.config.rmsNormEps, into: state, count: d)
                    }
                }
                for index in schedule.codas[loop - 1] { try batch.runStep(index, running, batch.hidden) }
            }
            guard !running.isEmpty else { continue }
            let current = batch.logProbabilities[loop % 2].pointer, previous = batch.logProbabilities[(loop + 1) % 2].pointer
            if predicts {
                try batch.headLogits(running, batch.hidden)
                for (r, token) in running.enumerated() {
                    logSoftmax(batch.prediction(r), into: current + token * vocabulary, count: vocabulary)
                }
            }
            batch.continuing.removeAll(keepingCapacity: true)
            for (r, token) in running.enumerated() {
                let logProbabilities = current + token * vocabulary, before = previous + token * vocabulary
                var value: Double?
                switch criterion {
                case .latentDiff:
                    value = relativeDifference(
                        batch.injection.pointer + token * 2 * d, batch.row(batch.previousHidden, token), count: d)
                case .kl where loop > 1:
                    value = klDivergence(logProbabilities, from: before, count: vocabulary)
                case .entropyDiff where loop > 1:
                    value = abs(entropy(logProbabilities, count: vocabulary) - entropy(before, count: vocabulary))
                case .argmaxStable:
                    value = Double(batch.argmaxRun(token, logProbabilities, firstStep: loop == 1))
                default:
                    value = nil
                }
                batch.scoreLastStep(token, value.map(Float.init))
                var exit: ExitDecision?
                if loop > 1, loop >= minSteps, let value, criterion.comparison.passes(value, threshold) {
                    exit = ExitDecision(
                        reason: .converged, criterion: criterion.rawValue, score: Float(value),
                        threshold: Float(threshold), steps: batch.stepsRun(token), maxSteps: schedule.count)
                } else if loop == loops {
                    let named = criterion != .none
                    exit = ExitDecision(
                        reason: .fullDepth, criterion: named ? criterion.rawValue : nil, score: value.map(Float.init),
                        threshold: named ? Float(threshold) : nil, steps: batch.stepsRun(token), maxSteps: schedule.count)
                }
                if let exit {
                    batch.setExit(token, exit)
                    batch.setOutput(token, prediction: r)
                    batch.stop(token, exitState: nil, loops: loop)
                } else {
                    batch.continuing.append(token)
                }
            }
            (batch.running, batch.continuing) = (batch.continuing, batch.running)
        }
    }
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
