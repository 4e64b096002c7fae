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

enum Convert {
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
        var windows: [Int?] = []
        if offset == 1 {
            layers.append(original.layers[0])
            windows.append(original.config.layerWindows[0])
        }
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
            windows.append(original.config.layerWindows[offset + k])
        }
        if offset == 1 {
            layers.append(original.layers[n - 1])
            windows.append(original.config.layerWindows[n - 1])
        }

        var config = original.config
        config.numHiddenLayers = layers.count
        config.layerWindows = windows
        let model = Model(
            folder: original.folder, config: config, embedding: original.embedding, layers: layers,
            finalNorm: original.finalNorm, lmHead: original.lmHead)

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
        func mean(_ pick: (DecoderLayerWeights) -> WeightMatrix) throws -> WeightMatrix {
            let matrices = members.map(pick)
            var total = [Float](repeating: 0, count: matrices[0].rows * matrices[0].columns)
            for matrix in matrices {
                let values = matrix.floatValues
                for i in total.indices { total[i] += values[i] }
            }
            let scale = 1 / Float(matrices.count)
            return try .float32(
                name: "\(name) \(matrices[0].name)", rows: matrices[0].rows, columns: matrices[0].columns,
                values: total.map { $0 * scale })
        }
        func mean(_ pick: (DecoderLayerWeights) -> WeightVector?) throws -> WeightVector? {
            let vectors = members.compactMap(pick)
            guard let head = vectors.first else { return nil }
            var total = [Float](repeating: 0, count: head.count)
            for vector in vectors {
                for (i, value) in vector.values.enumerated() { total[i] += value }
            }
            let scale = 1 / Float(vectors.count)
            return try .float32(name: "\(name) \(head.name)", values: total.map { $0 * scale })
        }
        guard let inputNorm = try mean({ $0.inputNorm }), let postNorm = try mean({ $0.postAttentionNorm }) else {
            throw EngineError("internal: layer without norms")
        }
        return DecoderLayerWeights(
            inputNorm: inputNorm, query: try mean { $0.query }, key: try mean { $0.key }, value: try mean { $0.value },
            output: try mean { $0.output }, queryBias: try mean { $0.queryBias }, keyBias: try mean { $0.keyBias },
            valueBias: try mean { $0.valueBias }, outputBias: try mean { $0.outputBias }, postAttentionNorm: postNorm,
            gate: try mean { $0.gate }, up: try mean { $0.up }, down: try mean { $0.down },
            gateBias: try mean { $0.gateBias }, upBias: try mean { $0.upBias }, downBias: try mean { $0.downBias },
            window: first.window)
    }
}

extension DecoderLayerWeights {
    /// The weight matrix of a projection.
    func matrix(_ projection: Projection) -> WeightMatrix {
        switch projection {
        case .query: query
        case .key: key
        case .value: value
        case .output: output
        case .gate: gate
        case .up: up
        case .down: down
        }
    }
}
