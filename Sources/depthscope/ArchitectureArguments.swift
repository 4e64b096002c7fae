import ArgumentParser
import Engine

/// `--arch NAME --arch-option key=value ...`: the architecture to run a checkpoint under
/// (default: the checkpoint's own, see `depthscope archs`).
struct ArchitectureArguments: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Architecture: \(Architecture.names.joined(separator: ", ")) (default: the checkpoint's own; see depthscope archs)."))
    var arch: String?

    @Option(name: .long, help: "An option of the architecture as key=value (repeatable), e.g. threshold=0.6.")
    var archOption: [String] = []

    /// The architecture these arguments name, validated against `model`.
    func resolve(for model: DepthModel) throws -> Architecture {
        let options = try archOption.map { text in
            do {
                return try ArchitectureOption(parsing: text)
            } catch let error as EngineError {
                throw EngineError("--arch-option: \(error.message)")
            }
        }
        guard let arch else {
            guard options.isEmpty else {
                return try Architecture.resolve(model.depth.defaultArchitecture, options: options, for: model)
            }
            return try Architecture.defaultFor(model)
        }
        return try Architecture.resolve(arch, options: options, for: model)
    }
}
