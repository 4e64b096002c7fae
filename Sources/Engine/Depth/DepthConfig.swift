/// The adaptive-depth objects of a checkpoint's config.json (docs/architectures.md 1.1):
/// `recursive`, `relaxation`, `mor`, `early_exit`, `act`, `recurrent_depth`. Keys are the
/// names the official code uses; unknown keys are ignored, missing ones take the defaults
/// of the spec. A value of the wrong kind is an error naming config.json and the key.
public struct DepthConfig: Sendable, Equatable {
    public struct Recursive: Sendable, Equatable {
        public var numRecursion: Int
        public var sharing: Sharing
    }

    public struct Relaxation: Sendable, Equatable {
        public var loraRank: Int
        public var loraAlpha: Double
        public var targetModules: [Projection]
        public var scaling: Float { Float(loraAlpha / Double(loraRank)) }
    }

    public struct MixtureOfRecursions: Sendable, Equatable {
        public enum Routing: String, Sendable { case expert, token }
        public var type: Routing
        /// Expert-choice decode-time threshold.
        public var threshold: Double
        public var kvSharing: Bool
    }

    /// Defaults for `--arch early-exit` on this checkpoint (all optional).
    public struct EarlyExitDefaults: Sendable, Equatable {
        public var criterion: String?
        public var threshold: Double?
        public var minDepth: Int?
        public var maxDepth: Int?
        public var kvPolicy: String?
    }

    public struct ACT: Sendable, Equatable {
        public var maxSteps: Int
        public var epsilon: Double
    }

    public struct RecurrentDepth: Sendable, Equatable {
        public var prelude: Int
        public var core: Int
        public var coda: Int
        public var meanRecurrence: Int
        public var maxRecurrence: Int
        public var stateInitStd: Double
        public var stateInitSeed: UInt64
        public var exitCriterion: String
        public var exitThreshold: Double?
    }

    public var recursive: Recursive?
    public var relaxation: Relaxation?
    public var mor: MixtureOfRecursions?
    public var earlyExit: EarlyExitDefaults?
    public var act: ACT?
    public var recurrentDepth: RecurrentDepth?

    /// R of the recursive schedule (1 without `recursive`).
    public var numRecursion: Int { recursive?.numRecursion ?? 1 }
    public var sharing: Sharing { recursive?.sharing ?? .cycle }

    /// The architecture a checkpoint runs when none is named (section 6).
    public var defaultArchitecture: String {
        if mor != nil { return "mor" }
        if act != nil { return "ut" }
        if recurrentDepth != nil { return "recurrent" }
        if relaxation != nil { return "relaxed" }
        if recursive != nil { return "recursive" }
        return "vanilla"
    }

    /// Reads the objects from `config.raw`; `file` names config.json in errors.
    public init(config: ModelConfig, file: String) throws {
        let reader = KeyReader(raw: config.raw, file: file)
        if let object = try reader.object("recursive") {
            let sharingName = try object.string("sharing") ?? "cycle"
            guard let sharing = Sharing(name: sharingName) else {
                throw reader.error("recursive.sharing", "'\(sharingName)' is not one of cycle, sequence, middle_cycle")
            }
            recursive = Recursive(numRecursion: try object.int("num_recursion", minimum: 1) ?? 1, sharing: sharing)
            if sharing == .middleCycle, config.numHiddenLayers < 3 {
                throw reader.error("recursive.sharing", "middle_cycle needs at least 3 layers, num_hidden_layers is \(config.numHiddenLayers)")
            }
        }
        if let object = try reader.object("relaxation") {
            guard let rank = try object.int("lora_rank", minimum: 1) else {
                throw reader.error("relaxation.lora_rank", "missing (a LoRA rank >= 1)")
            }
            let targets = try object.strings("target_modules") ?? Projection.allCases.map(\.rawValue)
            relaxation = Relaxation(
                loraRank: rank, loraAlpha: try object.double("lora_alpha") ?? Double(rank),
                targetModules: try Projection.parseList(targets, what: "\(file): relaxation.target_modules"))
        }
        if let object = try reader.object("mor") {
            let typeName = try object.string("type") ?? "expert"
            guard let type = MixtureOfRecursions.Routing(rawValue: typeName) else {
                throw reader.error("mor.type", "'\(typeName)' is not one of expert, token")
            }
            let routerType = try object.string("router_type") ?? "linear"
            guard routerType == "linear" else { throw reader.error("mor.router_type", "'\(routerType)' is not supported (linear)") }
            let function = try object.string("router_func") ?? (type == .expert ? "sigmoid" : "softmax")
            let expected = type == .expert ? "sigmoid" : "softmax"
            guard function == expected else {
                throw reader.error("mor.router_func", "'\(function)' is not supported for \(typeName)-choice routing (\(expected))")
            }
            let threshold = try object.double("threshold") ?? 0.5
            guard (0...1).contains(threshold) else { throw reader.error("mor.threshold", "\(threshold) is not in [0, 1]") }
            mor = MixtureOfRecursions(type: type, threshold: threshold, kvSharing: try object.bool("kv_sharing") ?? false)
        }
        if let object = try reader.object("early_exit") {
            earlyExit = EarlyExitDefaults(
                criterion: try object.string("criterion"), threshold: try object.double("threshold"),
                minDepth: try object.int("min_depth", minimum: 1), maxDepth: try object.int("max_depth", minimum: 1),
                kvPolicy: try object.string("kv_policy"))
        }
        if let object = try reader.object("act") {
            let epsilon = try object.double("epsilon") ?? 0.01
            guard epsilon > 0, epsilon < 1 else { throw reader.error("act.epsilon", "\(epsilon) is not in (0, 1)") }
            act = ACT(maxSteps: try object.int("max_steps", minimum: 1) ?? numRecursion, epsilon: epsilon)
        }
        if let object = try reader.object("recurrent_depth") {
            let injection = try object.string("injection_type") ?? "linear"
            guard injection == "linear" else {
                throw reader.error("recurrent_depth.injection_type", "'\(injection)' is not supported (linear)")
            }
            let initKind = try object.string("state_init") ?? "normal"
            guard initKind == "normal" else {
                throw reader.error("recurrent_depth.state_init", "'\(initKind)' is not supported (normal)")
            }
            func required(_ key: String) throws -> Int {
                guard let value = try object.int(key, minimum: 0) else { throw reader.error("recurrent_depth.\(key)", "missing") }
                return value
            }
            let depth = RecurrentDepth(
                prelude: try required("n_layers_in_prelude"), core: try required("n_layers_in_recurrent_block"),
                coda: try required("n_layers_in_coda"),
                meanRecurrence: try object.int("mean_recurrence", minimum: 1) ?? 4,
                maxRecurrence: try object.int("max_recurrence", minimum: 1) ?? 64,
                stateInitStd: try object.double("state_init_std") ?? 1,
                stateInitSeed: try object.uint64("state_init_seed") ?? 0,
                exitCriterion: try object.string("exit_criterion") ?? "none",
                exitThreshold: try object.double("exit_threshold"))
            guard depth.core >= 1 else { throw reader.error("recurrent_depth.n_layers_in_recurrent_block", "must be >= 1") }
            guard depth.prelude + depth.core + depth.coda == config.numHiddenLayers else {
                throw reader.error(
                    "recurrent_depth",
                    "prelude + core + coda = \(depth.prelude + depth.core + depth.coda) layers but num_hidden_layers is \(config.numHiddenLayers)")
            }
            guard depth.meanRecurrence <= depth.maxRecurrence else {
                throw reader.error("recurrent_depth.mean_recurrence", "\(depth.meanRecurrence) exceeds max_recurrence \(depth.maxRecurrence)")
            }
            guard RecurrentCriterion(rawValue: depth.exitCriterion) != nil else {
                let known = RecurrentCriterion.allCases.map(\.rawValue).joined(separator: ", ")
                throw reader.error("recurrent_depth.exit_criterion", "'\(depth.exitCriterion)' is not one of \(known)")
            }
            recurrentDepth = depth
        }
        let defining = [mor != nil ? "mor" : nil, act != nil ? "act" : nil, recurrentDepth != nil ? "recurrent_depth" : nil]
            .compactMap { $0 }
        guard defining.count <= 1 else {
            throw EngineError("\(file): \(defining.joined(separator: " and ")) cannot be combined (each defines the architecture)")
        }
    }
}

/// How the shared layers of a recursive schedule are looped (section 3.1).
public enum Sharing: String, Sendable, CaseIterable {
    case cycle
    case sequence
    case middleCycle = "middle_cycle"

    /// Accepts `middle-cycle` for `middle_cycle`.
    public init?(name: String) {
        self.init(rawValue: name.replacingOccurrences(of: "-", with: "_"))
    }
}

/// Typed access to one level of config.json with errors naming the file and the key.
private struct KeyReader {
    let raw: [String: JSONValue]
    let file: String
    var prefix = ""

    func error(_ key: String, _ problem: String) -> EngineError {
        EngineError("\(file): \(key): \(problem)")
    }

    private func name(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }

    /// A nested object; nil when absent or null.
    func object(_ key: String) throws -> KeyReader? {
        guard let value = raw[key], value != .null else { return nil }
        guard let object = value.objectValue else { throw error(name(key), "expected an object") }
        return KeyReader(raw: object, file: file, prefix: name(key))
    }

    func string(_ key: String) throws -> String? {
        guard let value = raw[key], value != .null else { return nil }
        guard let string = value.stringValue else { throw error(name(key), "expected a string") }
        return string
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = raw[key], value != .null else { return nil }
        guard let items = value.arrayValue?.compactMap(\.stringValue), items.count == value.arrayValue?.count else {
            throw error(name(key), "expected a list of strings")
        }
        return items
    }

    /// An integer in minimum...maximum (loop counts are capped by the most depth steps a
    /// schedule may have).
    func int(_ key: String, minimum: Int, maximum: Int = Architecture.maxDepthSteps) throws -> Int? {
        guard let value = raw[key], value != .null else { return nil }
        guard let number = value.intValue else { throw error(name(key), "expected an integer") }
        guard number >= minimum else { throw error(name(key), "\(number) is less than \(minimum)") }
        guard number <= maximum else { throw error(name(key), "\(number) is more than \(maximum)") }
        return number
    }

    func uint64(_ key: String) throws -> UInt64? {
        guard let value = raw[key], value != .null else { return nil }
        if let number = value.intValue, number >= 0 { return UInt64(number) }
        if let number = value.doubleValue, number >= 0, number < 0x1p64, number == number.rounded() {
            return UInt64(number)
        }
        throw error(name(key), "expected an integer in 0...2^64-1")
    }

    func double(_ key: String) throws -> Double? {
        guard let value = raw[key], value != .null else { return nil }
        guard let number = value.doubleValue, number.isFinite else { throw error(name(key), "expected a number") }
        return number
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = raw[key], value != .null else { return nil }
        guard let flag = value.boolValue else { throw error(name(key), "expected true or false") }
        return flag
    }
}
