/// `convert`: turn a vanilla checkpoint into a (relaxed) recursive one at load time
/// (Relaxed Recursive Transformers, Bae et al. 2024; docs/architectures.md 3.4), from the
/// weights already in memory, so a user sees what layer tying does to a model they have.
public struct ConvertSettings: Sendable, Equatable {
    public enum Initialisation: String, Sendable, CaseIterable {
        /// Shared layer k starts as original layer floor(k * M / K).
        case stepwise
        /// ... as the mean of the original layers it stands for.
        case average
        /// ... as original layer k.
        case lower
    }

    public var sharing: Sharing
    /// R.
    public var recursions: Int
    /// K: number of shared layers.
    public var sharedLayers: Int
    public var initialisation: Initialisation
    /// Rank of the per-loop LoRA from the SVD of each layer's difference (0: none).
    public var loraRank: Int
    public var loraTargets: [Projection]

    /// Stored layers of the converted model (K, plus middle_cycle's first and last).
    public var convertedLayers: Int { sharedLayers + (sharing == .middleCycle ? 2 : 0) }

    /// Original segment layer that step (loop r, shared layer k) stands for (may be >= M).
    func correspondingLayer(loop r: Int, shared k: Int) -> Int {
        sharing == .sequence ? k * recursions + r : r * sharedLayers + k
    }
}

public enum Convert: ArchitectureKind {
    public static let name = "convert"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "turn the checkpoint's layers into a recursive model at load time", needs: nil,
        options: [
            ArchitectureCatalog.Option(
                name: "sharing", range: "cycle|sequence|middle_cycle", defaultValue: "cycle", help: ArchitectureCatalog.sharing.help),
            ArchitectureCatalog.Option(name: "recursions", range: ">= 1", defaultValue: "2", help: "R loops of the shared layers"),
            ArchitectureCatalog.Option(
                name: "layers", range: "1..M", defaultValue: "M / R",
                help: "K shared layers (M = the layers to share: all, or all but the first and last for middle_cycle)"),
            ArchitectureCatalog.Option(
                name: "init", range: "stepwise|average|lower", defaultValue: "stepwise",
                help: "shared layer k starts as layer k*M/K (stepwise), the mean of the layers it replaces, or layer k"),
            ArchitectureCatalog.Option(
                name: "lora_rank", range: "0..min(hidden, intermediate, kv_heads*head_dim)", defaultValue: "0",
                help: "rank of a per-loop LoRA from the SVD of each replaced layer's difference (0: none)"),
            ArchitectureCatalog.Option(
                name: "lora_targets", range: "comma list of q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                defaultValue: "all seven", help: "projections that get LoRA"),
        ])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        let config = model.config
        let layers = config.numHiddenLayers
        let sharing = try options.sharingOption(default: .cycle, layers: layers)
        let recursions = try options.int("recursions", default: 2, min: 1, max: Architecture.maxDepthSteps)
        let segment = sharing == .middleCycle ? layers - 2 : layers
        if !options.isGiven("layers"), segment % recursions != 0 {
            throw options.error("recursions", String(recursions), "does not divide the \(segment) layers to share; give layers=K")
        }
        let shared = try options.int("layers", default: max(segment / recursions, 1), min: 1, max: segment)
        let initName = try options.choice("init", default: "stepwise", ConvertSettings.Initialisation.allCases.map(\.rawValue))
        let maxRank = min(config.hiddenSize, config.intermediateSize, config.kvDim)
        let rank = try options.int("lora_rank", default: 0, min: 0, max: maxRank)
        let targetNames = options.list("lora_targets", default: Projection.allCases.map(\.rawValue))
        let targets = try Projection.parseList(targetNames, what: "arch convert: option lora_targets")
        let settings = ConvertSettings(
            sharing: sharing, recursions: recursions, sharedLayers: shared,
            initialisation: ConvertSettings.Initialisation(rawValue: initName) ?? .stepwise,
            loraRank: rank, loraTargets: targets)
        return Architecture(
            name: name, policy: FixedDepth(), kv: .full,
            schedule: .recursive(layers: settings.convertedLayers, sharing: sharing, recursions: recursions, lora: rank > 0),
            options: options.inEffect, conversion: settings)
    }

    /// The converted model and its LoRA table. Lower and stepwise share the original
    /// layers' memory; average builds new f32 layers.
    static func build(from original: Model, _ settings: ConvertSettings) throws -> (Model, LoRATable) {
        let n = original.layers.count
        let offset = settings.sharing == .middleCycle ? 1 : 0
        let segment = n - 2 * offset
        let shared = settings.sharedLayers
        guard shared >= 1, shared <= segment else {
            throw EngineError("arch convert: option layers=\(shared): out of range [1, \(segment)]")
        }
        func segmentLayer(_ index: Int) -> DecoderLayerWeights { original.layers[offset + index] }

        var layers: [DecoderLayerWeights] = []
        if offset == 1 { layers.append(original.layers[0]) }
        for k in 0..<shared {
            switch settings.initialisation {
            case .lower:
                layers.append(segmentLayer(k))
            case .stepwise:
                layers.append(segmentLayer(k * segment / shared))
            case .average:
                var members = (0..<settings.recursions).map { settings.correspondingLayer(loop: $0, shared: k) }
                    .filter { $0 < segment }
                if members.isEmpty { members = [k] }
                layers.append(try average(members.map(segmentLayer), name: "converted layer \(k)"))
            }
        }
        if offset == 1 { layers.append(original.layers[n - 1]) }

        // A shared layer attends with the window and rope of the layer its weights came from.
        var config = original.config
        config.numHiddenLayers = layers.count
        config.layerWindows = layers.map(\.window)
        config.layerRopes = layers.map { original.ropes[$0.rope] }
        let model = Model(
            folder: original.folder, config: config, embedding: original.embedding, layers: layers,
            finalNorm: original.finalNorm, lmHead: original.lmHead, ropes: original.ropes)

        var lora = LoRATable(layers: layers.count)
        guard settings.loraRank > 0 else { return (model, lora) }
        for k in 0..<shared {
            let sharedLayer = layers[offset + k]
            for r in 0..<settings.recursions {
                let c = settings.correspondingLayer(loop: r, shared: k)
                guard c < segment else { continue }  // no original layer stands here: no delta
                var deltas = LayerLoRA()
                for projection in settings.loraTargets {
                    let target = sharedLayer.matrix(projection)
                    let source = segmentLayer(c).matrix(projection)
                    let targetValues = target.floatValues
                    let sourceValues = source.floatValues
                    let difference = (0..<targetValues.count).map { Double(sourceValues[$0]) - Double(targetValues[$0]) }
                    let svd = SingularValueDecomposition(matrix: difference, rows: target.rows, columns: target.columns)
                    let rank = min(settings.loraRank, svd.rank)
                    let (b, a) = svd.lowRankFactors(rank)
                    let name = "converted layer \(offset + k) \(projection.rawValue) loop \(r)"
                    deltas[projection] = LoRADelta(
                        a: try .float32(name: name + " lora_A", rows: rank, columns: target.columns, values: a),
                        b: try .float32(name: name + " lora_B", rows: target.rows, columns: rank, values: b),
                        scaling: 1)
                }
                lora[offset + k, r] = deltas
            }
        }
        return (model, lora)
    }

    /// The element-wise mean of layers (every tensor, norms and biases included), in f32.
    private static func average(_ members: [DecoderLayerWeights], name: String) throws -> DecoderLayerWeights {
        guard let first = members.first else { throw EngineError("internal: averaging no layers") }
        var tensors = LayerTensors()
        for projection in Projection.allCases {
            let matrices = members.map { $0.matrix(projection) }
            var total = [Float](repeating: 0, count: matrices[0].rows * matrices[0].columns)
            for matrix in matrices {
                let values = matrix.floatValues
                for i in total.indices { total[i] += values[i] }
            }
            let scale = 1 / Float(matrices.count)
            tensors[projection] = try .float32(
                name: "\(name) \(matrices[0].name)", rows: matrices[0].rows, columns: matrices[0].columns,
                values: total.map { $0 * scale })
        }
        for role in LayerVector.allCases {
            let vectors = members.compactMap { $0.vector(role) }
            guard let head = vectors.first else { continue }
            var total = [Float](repeating: 0, count: head.count)
            for vector in vectors {
                for (i, value) in vector.values.enumerated() { total[i] += value }
            }
            let scale = 1 / Float(vectors.count)
            tensors[role] = try .float32(name: "\(name) \(head.name)", values: total.map { $0 * scale })
        }
        return try DecoderLayerWeights(tensors, window: first.window, rope: first.rope)
    }
}
