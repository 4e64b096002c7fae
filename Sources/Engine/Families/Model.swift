import Foundation

/// A loaded decoder of any family: config, embedding, layers, final norm and head, in the
/// engine's one layer shape. Immutable and Sendable; everything that changes per token
/// lives in `RunState` and `KVCache`. The forward pass is in Forward/.
public final class Model: Sendable {
    public let folder: String
    public let config: ModelConfig
    public let embedding: WeightMatrix
    public let layers: [DecoderLayerWeights]
    public let finalNorm: WeightVector
    /// The output head; the same object as `embedding` when the embeddings are tied.
    public let lmHead: WeightMatrix
    /// The distinct ropes of the layers (`DecoderLayerWeights.rope` indexes this).
    public let ropes: [RopeParameters]

    /// Loads a model folder (config.json + model.safetensors or shards) or a GGUF file.
    public convenience init(folder: String) throws {
        let (source, config) = try Self.open(folder)
        try self.init(source: source, config: config)
    }

    /// The tensor source and config of a model folder or GGUF file.
    public static func open(_ path: String) throws -> (any TensorSource, ModelConfig) {
        if GGUFModel.isGGUF(path) {
            let file = try GGUFFile(path: path)
            return (GGUFSource(file: file), try GGUFModel.config(of: file))
        }
        try requireFolder(path)
        let config = try ModelConfig.load(folder: path)
        return (try SafetensorsSource(folder: path), config)
    }

    /// Loads the weights `config`'s family names in `source`.
    public convenience init(source: any TensorSource, config: ModelConfig) throws {
        let family = config.family
        let names = family.globalNames(source)
        let hidden = config.hiddenSize
        let embedding = try source.matrix(names.embedding, rows: config.vocabSize, columns: hidden)
        let ropes = Self.distinct(config.layerRopes)
        let layers = try (0..<config.numHiddenLayers).map { index in
            try DecoderLayerWeights(
                family.loadLayer(index, source, config), window: config.layerWindows[index],
                rope: ropes.firstIndex(of: config.layerRopes[index]) ?? 0)
        }
        let finalNorm = try source.vector(names.finalNorm, count: hidden, adding: names.normOffset)
        // HF ties the head to the embeddings when the config says so, whatever the file holds.
        let head =
            config.tieWordEmbeddings
            ? embedding : try source.matrix(names.head, rows: config.vocabSize, columns: hidden)
        self.init(folder: source.path, config: config, embedding: embedding, layers: layers, finalNorm: finalNorm, lmHead: head)
    }

    /// A model assembled from weights already in memory (e.g. a vanilla checkpoint turned
    /// into a recursive one at load time): shares the matrices it is given, copies nothing.
    init(
        folder: String, config: ModelConfig, embedding: WeightMatrix, layers: [DecoderLayerWeights],
        finalNorm: WeightVector, lmHead: WeightMatrix, ropes: [RopeParameters]? = nil
    ) {
        self.folder = folder
        self.config = config
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.lmHead = lmHead
        self.ropes = ropes ?? Self.distinct(config.layerRopes)
    }

    private static func distinct(_ ropes: [RopeParameters]) -> [RopeParameters] {
        ropes.reduce(into: []) { found, rope in if !found.contains(rope) { found.append(rope) } }
    }

    /// RoPE inverse frequencies of the full-attention rope, one per rotated pair of a head,
    /// for a run over the model's whole context.
    public var inverseFrequencies: [Float] {
        config.rope.inverseFrequencies(headDim: config.headDim, contextLength: config.maxPositionEmbeddings)
    }

    /// The same model with every weight matrix stored as `format` (norms stay f32): what
    /// `--dtype` does at load time. The head stays tied to the embedding when it was.
    public func converted(to format: WeightFormat) throws -> Model {
        let embedding = try embedding.converted(to: format)
        let layers = try layers.map { layer in try layer.mapMatrices { try $0.converted(to: format) } }
        let head = lmHead === self.embedding ? embedding : try lmHead.converted(to: format)
        return Model(
            folder: folder, config: config, embedding: embedding, layers: layers, finalNorm: finalNorm, lmHead: head,
            ropes: ropes)
    }

    /// A Llama-shaped model with random weights (seeded; normal-ish, std 0.02, norms 1) for
    /// benchmarks: `hidden` / `layers` / `heads` / `ffn`, a `vocab`-entry tied embedding.
    public static func random(
        hidden: Int, layers: Int, heads: Int, ffn: Int, vocab: Int = 32000, context: Int = 2048, seed: UInt64 = 0
    ) throws -> Model {
        guard hidden > 0, layers > 0, heads > 0, ffn > 0, vocab > 0, hidden % heads == 0, (hidden / heads) % 2 == 0 else {
            throw EngineError("random model: \(hidden)x\(layers)x\(heads)x\(ffn) is not a valid shape (hidden must split into heads of even size)")
        }
        let json = """
            {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": \(vocab), "hidden_size": \(hidden),
             "intermediate_size": \(ffn), "num_hidden_layers": \(layers), "num_attention_heads": \(heads),
             "num_key_value_heads": \(heads), "max_position_embeddings": \(context), "rms_norm_eps": 1e-5,
             "tie_word_embeddings": true}
            """
        let config = try ModelConfig.parse(Data(json.utf8), file: "random \(hidden)x\(layers)x\(heads)x\(ffn)")
        var random = SeededRandom(seed: seed)
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> WeightMatrix {
            // Sum of three uniforms: zero mean, std 0.02, cheap and bell-shaped enough.
            let values = (0..<(rows * columns)).map { _ in
                (random.nextUnitFloat() + random.nextUnitFloat() + random.nextUnitFloat() - 1.5) * 0.04
            }
            return try WeightMatrix.float32(name: name, rows: rows, columns: columns, values: values)
        }
        let ones = try WeightVector.float32(name: "norm", values: [Float](repeating: 1, count: hidden))
        let embedding = try matrix("model.embed_tokens.weight", vocab, hidden)
        let decoderLayers = try (0..<layers).map { i in
            var tensors = LayerTensors()
            for projection in Projection.allCases {
                let (input, output) = projection.shape(config)
                tensors[projection] = try matrix(projection.rawValue, output, input)
            }
            tensors[.inputNorm] = ones
            tensors[.feedForwardNorm] = ones
            return try DecoderLayerWeights(tensors, window: config.layerWindows[i])
        }
        return Model(
            folder: "random-\(hidden)x\(layers)x\(heads)x\(ffn)", config: config, embedding: embedding,
            layers: decoderLayers, finalNorm: ones, lmHead: embedding)
    }

    /// Weight bytes one decoded token reads at full depth: every layer matrix and the head
    /// (the embedding contributes one row), plus norms.
    public var decodeBytesPerToken: Int {
        var bytes = lmHead.byteCount + vectors.reduce(0) { $0 + $1.count * 4 }
        for layer in layers { bytes += layer.matrices.reduce(0) { $0 + $1.byteCount } }
        if lmHead !== embedding { bytes += embedding.byteCount / max(embedding.rows, 1) }
        return bytes
    }

    /// Throws a clear error unless `folder` is an existing directory.
    public static func requireFolder(_ folder: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw EngineError("\(folder): no such model folder")
        }
        guard isDirectory.boolValue else {
            throw EngineError("\(folder): is a file; a model is a folder with config.json and model.safetensors, or a .gguf file")
        }
    }

    /// Every weight matrix of the model, the head only once when tied.
    public var matrices: [WeightMatrix] {
        var all = [embedding] + layers.flatMap(\.matrices)
        if lmHead !== embedding { all.append(lmHead) }
        return all
    }

    /// Every weight vector (norms and biases).
    public var vectors: [WeightVector] { [finalNorm] + layers.flatMap(\.vectors) }

    /// Number of parameters (tied head counted once).
    public var parameterCount: Int {
        matrices.reduce(0) { $0 + $1.rows * $1.columns } + vectors.reduce(0) { $0 + $1.count }
    }

    /// Bytes of weight memory as held by the engine (matrices as stored, vectors as f32).
    public var weightBytes: Int {
        matrices.reduce(0) { $0 + $1.byteCount } + vectors.reduce(0) { $0 + $1.count * 4 }
    }

    /// The element types of the weight matrices, e.g. ["BF16"].
    public var matrixDTypes: [String] {
        Array(Set(matrices.map(\.format.rawValue))).sorted()
    }
}
