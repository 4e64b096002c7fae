import Foundation

/// An architecture = schedule x depth policy x KV policy over one set of weights
/// (docs/architectures.md section 6). `resolve` validates a name and its options against a
/// loaded checkpoint; it is cheap and builds nothing (the runner builds converted weights).
public struct Architecture: Sendable, Equatable {
    /// The names `--arch` accepts, in the order `depthscope archs` lists them.
    public static var names: [String] { Architectures.all.map { $0.name } }

    /// Most depth steps a schedule may have: far beyond any real model, low enough that a
    /// mistyped loop count is an error rather than gigabytes of caches.
    public static let maxDepthSteps = 4096

    public let name: String
    public let policy: any DepthPolicy
    public let kv: KVPolicy
    public let schedule: Schedule
    /// Every option in effect, defaults included, in a stable order.
    public let options: [ArchitectureOption]
    /// `convert`: how to build the recursive weights from the checkpoint's layers.
    public let conversion: ConvertSettings?

    public init(
        name: String, policy: any DepthPolicy, kv: KVPolicy, schedule: Schedule, options: [ArchitectureOption] = [],
        conversion: ConvertSettings? = nil
    ) {
        self.name = name
        self.policy = policy
        self.kv = kv
        self.schedule = schedule
        self.options = options
        self.conversion = conversion
    }

    public static func == (a: Architecture, b: Architecture) -> Bool {
        a.name == b.name && a.kv == b.kv && a.schedule == b.schedule && a.options == b.options
            && a.conversion == b.conversion && a.routing == b.routing
    }

    /// Most depth steps a token can execute.
    public var maxDepth: Int { schedule.count }

    /// `name key=value ...` with every option in effect.
    public var spec: String { ([name] + options.map(\.description)).joined(separator: " ") }

    /// One line saying how depth is decided, e.g. "expert-choice router, threshold 0.50".
    public var routing: String { policy.routing(self) }

    /// The checkpoint's default architecture with its default options.
    public static func defaultFor(_ model: DepthModel) throws -> Architecture {
        try resolve(model.depth.defaultArchitecture, options: [], for: model)
    }

    /// Validates `name` and `options` against `model`. Errors are one line naming the
    /// architecture, option, value and allowed range.
    public static func resolve(_ name: String, options: [ArchitectureOption], for model: DepthModel) throws -> Architecture {
        let canonical = name == "early_exit" ? "early-exit" : name
        guard let kind = Architectures.kind(named: canonical) else {
            throw EngineError("unknown architecture '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        var reader = OptionReader(architecture: canonical, options: options)
        let architecture = try kind.resolve(&reader, for: model)
        try reader.finish()
        guard architecture.maxDepth <= maxDepthSteps else {
            let chosen = architecture.options.map(\.description).joined(separator: " ")
            throw EngineError(
                "arch \(canonical) \(chosen): \(architecture.maxDepth) depth steps exceed the limit of \(maxDepthSteps) (each step keeps its own KV cache)")
        }
        return architecture
    }

    /// A number as option values and routing lines show it.
    static func format(_ value: Double) -> String {
        value == value.rounded() ? OptionReader.number(value) : String(format: "%.4g", value)
    }
}

/// One `--arch` name: what `depthscope archs` and the workbench show of it, and how its
/// options resolve against a checkpoint. Each lives in its own file in Architectures/.
public protocol ArchitectureKind: Sendable {
    static var name: String { get }
    static var catalog: ArchitectureCatalog.Entry { get }
    /// The architecture these options give on `model`; reads every option it has from
    /// `options` (the caller refuses the rest).
    static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture
}

/// Every architecture, in the order `depthscope archs` lists them. A new one is one file
/// in Architectures/ and one line here.
public enum Architectures {
    public static let all: [any ArchitectureKind.Type] = [
        Vanilla.self,
        Recursive.self,
        Relaxed.self,
        Convert.self,
        MixtureOfRecursions.self,
        EarlyExit.self,
        UniversalTransformer.self,
        RecurrentDepth.self,
    ]

    static func kind(named name: String) -> (any ArchitectureKind.Type)? {
        all.first { $0.name == name }
    }
}
