/// `vanilla`: the checkpoint's own layers, once each, in order.
public enum Vanilla: ArchitectureKind {
    public static let name = "vanilla"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "the checkpoint's own layers, full depth", needs: nil, options: [])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        Architecture(
            name: name, policy: FixedDepth(), kv: .full,
            schedule: .recursive(layers: model.config.numHiddenLayers, sharing: .cycle, recursions: 1))
    }
}
