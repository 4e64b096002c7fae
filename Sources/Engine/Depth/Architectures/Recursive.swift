/// `recursive`: a shared stack of layers looped R times (Recursive Transformers;
/// docs/architectures.md 3.1), every token at full depth.
public enum Recursive: ArchitectureKind {
    public static let name = "recursive"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "a shared stack of layers looped R times (Recursive Transformers)", needs: nil,
        options: [ArchitectureCatalog.recursions, ArchitectureCatalog.sharing])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        let layers = model.config.numHiddenLayers
        let (recursions, sharing) = try options.recursionOptions(
            defaultRecursions: model.depth.numRecursion, defaultSharing: model.depth.sharing, layers: layers)
        return Architecture(
            name: name, policy: FixedDepth(), kv: .full,
            schedule: .recursive(layers: layers, sharing: sharing, recursions: recursions), options: options.inEffect)
    }
}
