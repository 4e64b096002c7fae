/// Early exit on any plain, recursive, relaxed or converted schedule (CALM, LayerSkip;
/// docs/architectures.md 4.4): after every step a confidence criterion is computed from the
/// state and its logit lens; the token stops once it passes (after `min_depth`), or at
/// `max_depth`. The exit state goes straight to the final norm and head; skipped steps get
/// K/V from it (`propagate`) or stay empty (`recursion_wise`).
public enum EarlyExitCriterion: String, Sendable, CaseIterable {
    /// max_i p[i] > threshold.
    case softmaxMax = "softmax_max"
    /// p[top1] - p[top2] > threshold.
    case top2Margin = "top2_margin"
    /// cos(h_d, h_{d-1}) > threshold.
    case cosine
    /// KL(p_d || p_{d-1}) < threshold.
    case kl
    /// The argmax has stayed the same for more than `threshold` steps.
    case argmaxStable = "argmax_stable"

    public var comparison: ExitComparison { self == .kl ? .less : .greater }

    public var defaultThreshold: Double {
        switch self {
        case .softmaxMax: 0.9
        case .top2Margin: 0.8
        case .cosine: 0.99
        case .kl: 0.01
        case .argmaxStable: 2
        }
    }

    public var range: ClosedRange<Double> {
        switch self {
        case .softmaxMax, .top2Margin: 0...1
        case .cosine: -1...1
        case .kl: 0...Double.infinity
        case .argmaxStable: 1...Double.infinity
        }
    }

    /// Whether the value needs the previous step (never passes at the first step).
    var comparesSteps: Bool { self == .cosine || self == .kl || self == .argmaxStable }
}

/// `early-exit` on any plain, recursive, relaxed or converted schedule.
public enum EarlyExit: ArchitectureKind {
    public static let name = "early-exit"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "stop a token once its prediction is confident (CALM, LayerSkip)", needs: nil,
        options: [
            ArchitectureCatalog.Option(
                name: "criterion", range: "softmax_max|top2_margin|cosine|kl|argmax_stable",
                defaultValue: "config early_exit.criterion, else softmax_max",
                help: "exit when max prob > t, top-2 margin > t, cos(h_d, h_d-1) > t, KL(p_d||p_d-1) < t, or argmax unchanged for > t steps"),
            ArchitectureCatalog.Option(
                name: "threshold", range: "[0, 1]; cosine [-1, 1]; kl >= 0; argmax_stable whole >= 1",
                defaultValue: "0.9, 0.8, 0.99, 0.01, 2 by criterion (or config)", help: "the criterion's threshold"),
            ArchitectureCatalog.Option(name: "min_depth", range: "1..full", defaultValue: "1", help: "never exit before this many steps"),
            ArchitectureCatalog.Option(name: "max_depth", range: "min_depth..full", defaultValue: "full", help: "always stop here"),
            ArchitectureCatalog.Option(
                name: "kv", range: "propagate|recursion_wise", defaultValue: "propagate",
                help: "propagate: skipped steps get K/V from the exit state; recursion_wise: they stay empty"),
            ArchitectureCatalog.Option(
                name: "recursions", range: ">= 1 (relaxed: <= config R)",
                defaultValue: "config (act.max_steps for a UT checkpoint)", help: ArchitectureCatalog.recursions.help),
            ArchitectureCatalog.sharing,
        ])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        let depth = model.depth
        guard depth.recurrentDepth == nil else {
            throw EngineError("arch early-exit: recurrent-depth checkpoints exit with arch recurrent's criterion option")
        }
        let defaults = depth.earlyExit
        let (recursions, sharing) = try options.recursionOptions(
            defaultRecursions: depth.act?.maxSteps ?? depth.numRecursion, defaultSharing: depth.sharing,
            layers: model.config.numHiddenLayers)
        if depth.relaxation != nil, recursions > depth.numRecursion {
            throw options.error("recursions", String(recursions), "the relaxed checkpoint has LoRA for \(depth.numRecursion) loops")
        }
        let schedule = Schedule.recursive(
            layers: model.config.numHiddenLayers, sharing: sharing, recursions: recursions, lora: depth.relaxation != nil)
        let full = schedule.count
        let configCriterion = defaults?.criterion ?? EarlyExitCriterion.softmaxMax.rawValue
        let criterionName = try options.choice("criterion", default: configCriterion, EarlyExitCriterion.allCases.map(\.rawValue))
        let criterion = EarlyExitCriterion(rawValue: criterionName) ?? .softmaxMax
        var defaultThreshold = criterion.defaultThreshold
        if criterionName == configCriterion, let configured = defaults?.threshold { defaultThreshold = configured }
        let threshold = try options.double(
            "threshold", default: defaultThreshold, low: criterion.range.lowerBound, high: criterion.range.upperBound,
            whole: criterion == .argmaxStable ? criterion.rawValue : nil)
        let minDepth = try options.int("min_depth", default: min(defaults?.minDepth ?? 1, full), min: 1, max: full)
        let maxDepth = try options.int(
            "max_depth", default: max(min(defaults?.maxDepth ?? full, full), minDepth), min: minDepth, max: full)
        let kv = try options.choice("kv", default: defaults?.kvPolicy ?? "propagate", ["propagate", "recursion_wise"])
        return Architecture(
            name: name,
            policy: EarlyExitPolicy(criterion: criterion, threshold: threshold, minDepth: minDepth, maxDepth: maxDepth),
            kv: KVPolicy(rawValue: kv) ?? .propagate, schedule: schedule, options: options.inEffect)
    }
}

/// Section 4.4: after every step a confidence criterion is computed from the state and its
/// logit lens; the token stops once it passes (after `minDepth`), or at `maxDepth`. The exit
/// state goes straight to the final norm and head.
public struct EarlyExitPolicy: DepthPolicy {
    public var criterion: EarlyExitCriterion
    public var threshold: Double
    /// 1-based step counts: never exit before `minDepth`, always stop at `maxDepth`.
    public var minDepth: Int
    public var maxDepth: Int

    public var predictionBuffers: Int { 2 }

    public func routing(_ architecture: Architecture) -> String {
        "early exit: \(criterion.rawValue) \(criterion.comparison.sign) \(Architecture.format(threshold)), depth \(minDepth)-\(maxDepth), kv \(architecture.kv.rawValue)"
    }

    public func run(_ batch: DepthRunner) throws {
        let steps = batch.schedule.count, n = batch.count, vocabulary = batch.model.config.vocabSize
        let d = batch.model.config.hiddenSize
        batch.running.removeAll(keepingCapacity: true)
        for token in 0..<n { batch.running.append(token) }
        for depth in 1...steps {
            // Steps nobody runs still take the stopped tokens' keys and values.
            if criterion == .cosine {
                for token in batch.running { batch.row(batch.previousHidden, token).update(from: batch.row(batch.hidden, token), count: d) }
            }
            try batch.runStep(depth - 1, batch.running, batch.hidden, lensLater: true)
            guard !batch.running.isEmpty else { continue }
            try batch.headLogits(batch.running, batch.hidden)
            let current = batch.logProbabilities[depth % 2].pointer, previous = batch.logProbabilities[(depth + 1) % 2].pointer
            batch.continuing.removeAll(keepingCapacity: true)
            for (r, token) in batch.running.enumerated() {
                batch.captureLens(token: token, row: r)
                let logProbabilities = current + token * vocabulary
                logSoftmax(batch.prediction(r), into: logProbabilities, count: vocabulary)
                var value: Double?
                switch criterion {
                case .softmaxMax:
                    value = Double(expf(maximum(logProbabilities, count: vocabulary)))
                case .top2Margin:
                    let (first, second) = topTwo(logProbabilities, count: vocabulary)
                    value = Double(expf(first)) - Double(expf(second))
                case .cosine where depth > 1:
                    value = cosine(batch.row(batch.hidden, token), batch.row(batch.previousHidden, token), count: d)
                case .kl where depth > 1:
                    value = klDivergence(logProbabilities, from: previous + token * vocabulary, count: vocabulary)
                case .argmaxStable:
                    value = Double(batch.argmaxRun(token, logProbabilities, firstStep: depth == 1))
                default:
                    value = nil
                }
                batch.scoreLastStep(token, value.map(Float.init))
                var exit: ExitDecision?
                if depth >= minDepth, let value, criterion.comparison.passes(value, threshold) {
                    exit = ExitDecision(
                        reason: .confidence, criterion: criterion.rawValue, score: Float(value),
                        threshold: Float(threshold), steps: depth, maxSteps: steps)
                } else if depth == maxDepth {
                    exit = ExitDecision(
                        reason: depth == steps ? .fullDepth : .maxSteps, criterion: criterion.rawValue,
                        score: value.map(Float.init), threshold: Float(threshold), steps: depth, maxSteps: steps)
                }
                if let exit {
                    batch.setExit(token, exit)
                    batch.setOutput(token, prediction: r)
                    batch.stop(token, exitState: batch.row(batch.hidden, token))
                } else {
                    batch.continuing.append(token)
                }
            }
            (batch.running, batch.continuing) = (batch.continuing, batch.running)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
