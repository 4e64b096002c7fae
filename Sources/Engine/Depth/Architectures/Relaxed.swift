/// `relaxed`: the recursive schedule with the checkpoint's per-loop LoRA deltas (Relaxed
/// Recursive Transformers; docs/architectures.md 3.3), every token at full depth.
public enum Relaxed: ArchitectureKind {
    public static let name = "relaxed"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "recursive with a per-loop LoRA delta on chosen projections", needs: "relaxation",
        options: [
            ArchitectureCatalog.Option(
                name: "recursions", range: "1..config R", defaultValue: "config recursive.num_recursion",
                help: "loops to run (each has its own LoRA)")
        ])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        let depth = model.depth
        guard depth.relaxation != nil else { throw options.missing("relaxation", "per-loop LoRA", in: model) }
        let recursions = try options.int("recursions", default: depth.numRecursion, min: 1, max: depth.numRecursion)
        return Architecture(
            name: name, policy: FixedDepth(), kv: .full,
            schedule: .recursive(layers: model.config.numHiddenLayers, sharing: depth.sharing, recursions: recursions, lora: true),
            options: options.inEffect)
    }
}
