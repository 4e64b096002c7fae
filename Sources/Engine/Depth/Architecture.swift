import Foundation

/// An architecture = schedule x depth policy x KV policy over one set of weights
/// (docs/architectures.md section 6). `resolve` validates a name and its options against a
/// loaded checkpoint; it is cheap and builds nothing (the runner builds converted weights).
public struct Architecture: Sendable, Equatable {
    /// The names `--arch` accepts, in the order `depthscope archs` lists them.
    public static let names = ["vanilla", "recursive", "relaxed", "convert", "mor", "early-exit", "ut", "recurrent"]

    /// Most depth steps a schedule may have: far beyond any real model, low enough that a
    /// mistyped loop count is an error rather than gigabytes of caches.
    public static let maxDepthSteps = 4096

    public let name: String
    public let policy: DepthPolicy
    public let kv: KVPolicy
    public let schedule: Schedule
    /// Every option in effect, defaults included, in a stable order.
    public let options: [ArchitectureOption]
    /// `convert`: how to build the recursive weights from the checkpoint's layers.
    public let conversion: ConvertSettings?

    /// Most depth steps a token can execute.
    public var maxDepth: Int { schedule.count }

    /// `name key=value ...` with every option in effect.
    public var spec: String { ([name] + options.map(\.description)).joined(separator: " ") }

    /// One line saying how depth is decided, e.g. "expert-choice router, threshold 0.50".
    public var routing: String {
        switch policy {
        case .fixed: return "full depth, \(schedule.count) steps"
        case .mixtureExpert(let threshold):
            return "expert-choice router, threshold \(format(threshold)), kv \(kv.rawValue)"
        case .mixtureToken: return "token-choice router, kv \(kv.rawValue)"
        case .earlyExit(let e):
            let sign = e.criterion.comparison == .greater ? ">" : "<"
            return "early exit: \(e.criterion.rawValue) \(sign) \(format(e.threshold)), depth \(e.minDepth)-\(e.maxDepth), kv \(kv.rawValue)"
        case .act(let a): return "ACT halting at \(format(Double(a.limit))), at most \(a.maxSteps) steps"
        case .recurrent(let r):
            guard r.criterion != .none else { return "recurrent depth, \(r.loops) loops" }
            let sign = r.criterion.comparison == .greater ? ">" : "<"
            return "recurrent depth, up to \(r.loops) loops, exit \(r.criterion.rawValue) \(sign) \(format(r.threshold))"
        }
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() ? OptionReader.number(value) : String(format: "%.4g", value)
    }

    /// The checkpoint's default architecture with its default options.
    public static func defaultFor(_ model: DepthModel) throws -> Architecture {
        try resolve(model.depth.defaultArchitecture, options: [], for: model)
    }

    /// Validates `name` and `options` against `model`. Errors are one line naming the
    /// architecture, option, value and allowed range.
    public static func resolve(_ name: String, options: [ArchitectureOption], for model: DepthModel) throws -> Architecture {
        let canonical = name == "early_exit" ? "early-exit" : name
        var reader = OptionReader(architecture: canonical, options: options)
        let config = model.config
        let depth = model.depth
        let layers = config.numHiddenLayers
        var known: [String] = []

        func recursionOptions(defaultRecursions: Int, defaultSharing: Sharing, maxRecursions: Int? = nil) throws
            -> (Int, Sharing)
        {
            known += ["recursions", "sharing"]
            let recursions = try reader.int("recursions", default: defaultRecursions, min: 1, max: maxRecursions ?? maxDepthSteps)
            let sharing = try sharingOption(default: defaultSharing)
            return (recursions, sharing)
        }
        func sharingOption(default fallback: Sharing) throws -> Sharing {
            let value = try reader.choice("sharing", default: fallback.rawValue, Sharing.allCases.map(\.rawValue))
            let sharing = Sharing(rawValue: value) ?? .cycle
            if sharing == .middleCycle, layers < 3 {
                throw reader.error("sharing", value, "needs at least 3 layers, the model has \(layers)")
            }
            return sharing
        }
        func missing(_ key: String, _ what: String) -> EngineError {
            EngineError("arch \(canonical): \(model.folder)/config.json has no \"\(key)\" object (\(what))")
        }

        let architecture: Architecture
        switch canonical {
        case "vanilla":
            architecture = Architecture(
                name: canonical, policy: .fixed, kv: .full,
                schedule: .recursive(layers: layers, sharing: .cycle, recursions: 1), options: [], conversion: nil)

        case "recursive":
            let (recursions, sharing) = try recursionOptions(defaultRecursions: depth.numRecursion, defaultSharing: depth.sharing)
            architecture = Architecture(
                name: canonical, policy: .fixed, kv: .full,
                schedule: .recursive(layers: layers, sharing: sharing, recursions: recursions),
                options: reader.inEffect, conversion: nil)

        case "relaxed":
            guard depth.relaxation != nil else { throw missing("relaxation", "per-loop LoRA") }
            known = ["recursions"]
            let recursions = try reader.int("recursions", default: depth.numRecursion, min: 1, max: depth.numRecursion)
            architecture = Architecture(
                name: canonical, policy: .fixed, kv: .full,
                schedule: .recursive(layers: layers, sharing: depth.sharing, recursions: recursions, lora: true),
                options: reader.inEffect, conversion: nil)

        case "convert":
            known = ["sharing", "recursions", "layers", "init", "lora_rank", "lora_targets"]
            let sharing = try sharingOption(default: .cycle)
            let recursions = try reader.int("recursions", default: 2, min: 1, max: maxDepthSteps)
            let segment = sharing == .middleCycle ? layers - 2 : layers
            if !reader.isGiven("layers"), segment % recursions != 0 {
                throw reader.error(
                    "recursions", String(recursions), "does not divide the \(segment) layers to share; give layers=K")
            }
            let shared = try reader.int("layers", default: max(segment / recursions, 1), min: 1, max: segment)
            let initName = try reader.choice("init", default: "stepwise", ConvertSettings.Initialisation.allCases.map(\.rawValue))
            let maxRank = min(config.hiddenSize, config.intermediateSize, config.kvDim)
            let rank = try reader.int("lora_rank", default: 0, min: 0, max: maxRank)
            let targetNames = reader.list("lora_targets", default: Projection.allCases.map(\.rawValue))
            let targets = try Projection.parseList(targetNames, what: "arch convert: option lora_targets")
            let settings = ConvertSettings(
                sharing: sharing, recursions: recursions, sharedLayers: shared,
                initialisation: ConvertSettings.Initialisation(rawValue: initName) ?? .stepwise,
                loraRank: rank, loraTargets: targets)
            architecture = Architecture(
                name: canonical, policy: .fixed, kv: .full,
                schedule: .recursive(
                    layers: settings.convertedLayers, sharing: sharing, recursions: recursions, lora: rank > 0),
                options: reader.inEffect, conversion: settings)

        case "mor":
            guard let mor = depth.mor else { throw missing("mor", "Mixture-of-Recursions routers") }
            guard depth.sharing != .sequence else {
                throw EngineError("arch mor: \(model.folder)/config.json: recursive.sharing must be cycle or middle_cycle, not sequence")
            }
            let schedule = Schedule.recursive(
                layers: layers, sharing: depth.sharing, recursions: depth.numRecursion, lora: depth.relaxation != nil)
            var policy = DepthPolicy.mixtureToken
            if mor.type == .expert {
                known.append("threshold")
                policy = .mixtureExpert(threshold: try reader.double("threshold", default: mor.threshold, low: 0, high: 1))
            }
            known.append("kv")
            let kv = try reader.choice(
                "kv", default: mor.kvSharing ? "recursive_sharing" : "recursion_wise", ["recursion_wise", "recursive_sharing"])
            architecture = Architecture(
                name: canonical, policy: policy, kv: KVPolicy(rawValue: kv) ?? .recursionWise, schedule: schedule,
                options: reader.inEffect, conversion: nil)

        case "early-exit":
            guard depth.recurrentDepth == nil else {
                throw EngineError("arch early-exit: recurrent-depth checkpoints exit with arch recurrent's criterion option")
            }
            let defaults = depth.earlyExit
            let defaultRecursions = depth.act?.maxSteps ?? depth.numRecursion
            let (recursions, sharing) = try recursionOptions(defaultRecursions: defaultRecursions, defaultSharing: depth.sharing)
            if depth.relaxation != nil, recursions > depth.numRecursion {
                throw reader.error(
                    "recursions", String(recursions), "the relaxed checkpoint has LoRA for \(depth.numRecursion) loops")
            }
            let schedule = Schedule.recursive(
                layers: layers, sharing: sharing, recursions: recursions, lora: depth.relaxation != nil)
            let full = schedule.count
            known += ["criterion", "threshold", "min_depth", "max_depth", "kv"]
            let configCriterion = defaults?.criterion ?? EarlyExitCriterion.softmaxMax.rawValue
            let criterionName = try reader.choice(
                "criterion", default: configCriterion, EarlyExitCriterion.allCases.map(\.rawValue))
            let criterion = EarlyExitCriterion(rawValue: criterionName) ?? .softmaxMax
            var defaultThreshold = criterion.defaultThreshold
            if criterionName == configCriterion, let configured = defaults?.threshold { defaultThreshold = configured }
            let threshold = try reader.double(
                "threshold", default: defaultThreshold, low: criterion.range.lowerBound, high: criterion.range.upperBound,
                whole: criterion == .argmaxStable ? criterion.rawValue : nil)
            let minDepth = try reader.int("min_depth", default: min(defaults?.minDepth ?? 1, full), min: 1, max: full)
            let maxDepth = try reader.int(
                "max_depth", default: max(min(defaults?.maxDepth ?? full, full), minDepth), min: minDepth, max: full)
            let kv = try reader.choice("kv", default: defaults?.kvPolicy ?? "propagate", ["propagate", "recursion_wise"])
            architecture = Architecture(
                name: canonical,
                policy: .earlyExit(
                    EarlyExitSettings(criterion: criterion, threshold: threshold, minDepth: minDepth, maxDepth: maxDepth)),
                kv: KVPolicy(rawValue: kv) ?? .propagate, schedule: schedule, options: reader.inEffect, conversion: nil)

        case "ut":
            guard let act = depth.act else { throw missing("act", "ACT halting unit") }
            known = ["max_steps", "epsilon"]
            let steps = try reader.int("max_steps", default: act.maxSteps, min: 1, max: maxDepthSteps)
            let epsilon = try reader.double("epsilon", default: act.epsilon, low: 0, high: 1, openLow: true, openHigh: true)
            architecture = Architecture(
                name: canonical, policy: .act(ACTSettings(maxSteps: steps, epsilon: epsilon)), kv: .propagate,
                schedule: .recursive(layers: layers, sharing: .cycle, recursions: steps), options: reader.inEffect,
                conversion: nil)

        case "recurrent":
            guard let recurrent = depth.recurrentDepth else { throw missing("recurrent_depth", "prelude/core/coda and adapter") }
            known = ["steps", "criterion", "threshold", "min_steps", "seed"]
            let loops = try reader.int("steps", default: recurrent.meanRecurrence, min: 1, max: recurrent.maxRecurrence)
            let criterionName = try reader.choice(
                "criterion", default: recurrent.exitCriterion, RecurrentCriterion.allCases.map(\.rawValue))
            let criterion = RecurrentCriterion(rawValue: criterionName) ?? .none
            var defaultThreshold = criterion.defaultThreshold
            if criterionName == recurrent.exitCriterion, let configured = recurrent.exitThreshold {
                defaultThreshold = configured
            }
            let threshold = try reader.double(
                "threshold", default: defaultThreshold, low: criterion.range.lowerBound, high: criterion.range.upperBound,
                whole: criterion == .argmaxStable ? criterion.rawValue : nil)
            let minSteps = try reader.int("min_steps", default: 1, min: 1, max: loops)
            let seed = try reader.uint64("seed", default: recurrent.stateInitSeed)
            let settings = RecurrentSettings(
                prelude: recurrent.prelude, core: recurrent.core, coda: recurrent.coda, loops: loops, criterion: criterion,
                threshold: threshold, minSteps: minSteps, seed: seed, stateStd: recurrent.stateInitStd)
            architecture = Architecture(
                name: canonical, policy: .recurrent(settings), kv: .latest,
                schedule: .recurrent(
                    prelude: settings.prelude, core: settings.core, coda: settings.coda, loops: loops,
                    codaEveryLoop: settings.codaEveryLoop),
                options: reader.inEffect, conversion: nil)

        default:
            throw EngineError("unknown architecture '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        try reader.finish(known: known)
        guard architecture.maxDepth <= maxDepthSteps else {
            let chosen = architecture.options.map(\.description).joined(separator: " ")
            throw EngineError(
                "arch \(canonical) \(chosen): \(architecture.maxDepth) depth steps exceed the limit of \(maxDepthSteps) (each step keeps its own KV cache)")
        }
        return architecture
    }
}
