import Foundation

/// The weights of one stored decoder layer, named as in the checkpoint
/// (`model.layers.{i}.self_attn.q_proj.weight`, ...).
public final class DecoderLayerWeights: Sendable {
    public let inputNorm: WeightVector
    public let query: WeightMatrix
    public let key: WeightMatrix
    public let value: WeightMatrix
    public let output: WeightMatrix
    public let queryBias: WeightVector?
    public let keyBias: WeightVector?
    public let valueBias: WeightVector?
    public let outputBias: WeightVector?
    public let postAttentionNorm: WeightVector
    public let gate: WeightMatrix
    public let up: WeightMatrix
    public let down: WeightMatrix
    public let gateBias: WeightVector?
    public let upBias: WeightVector?
    public let downBias: WeightVector?
    /// Sliding attention window of this layer (nil: full causal attention). A key at
    /// position k is visible from query position q when q - k < window, as in HF.
    public let window: Int?

    // A class, not a struct: the forward pass looks layers up several times per step, and
    // copying 16 references (a retain and a release each) showed up in decode profiles.
    public init(
        inputNorm: WeightVector,
        query: WeightMatrix,
        key: WeightMatrix,
        value: WeightMatrix,
        output: WeightMatrix,
        queryBias: WeightVector?,
        keyBias: WeightVector?,
        valueBias: WeightVector?,
        outputBias: WeightVector?,
        postAttentionNorm: WeightVector,
        gate: WeightMatrix,
        up: WeightMatrix,
        down: WeightMatrix,
        gateBias: WeightVector?,
        upBias: WeightVector?,
        downBias: WeightVector?,
        window: Int?
    ) {
        self.inputNorm = inputNorm
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.queryBias = queryBias
        self.keyBias = keyBias
        self.valueBias = valueBias
        self.outputBias = outputBias
        self.postAttentionNorm = postAttentionNorm
        self.gate = gate
        self.up = up
        self.down = down
        self.gateBias = gateBias
        self.upBias = upBias
        self.downBias = downBias
        self.window = window
    }
}

/// A loaded Llama-family model: config, weights and rotary frequencies. Immutable and
/// Sendable; everything that changes per token lives in `RunState` and `KVCache`.
/// The forward pass is in ForwardPass.swift.
public final class Model: Sendable {
    public let folder: String
    public let config: ModelConfig
    public let embedding: WeightMatrix
    public let layers: [DecoderLayerWeights]
    public let finalNorm: WeightVector
    /// The output head; the same object as `embedding` when the embeddings are tied.
    public let lmHead: WeightMatrix
    /// RoPE inverse frequencies, one per rotated pair of a head.
    public let inverseFrequencies: [Float]

    /// Loads `folder` (config.json + model.safetensors or shards), or a GGUF file.
    public convenience init(folder: String) throws {
        if GGUFModel.isGGUF(folder) {
            try self.init(gguf: folder)
            return
        }
        try Self.requireFolder(folder)
        let config = try ModelConfig.load(folder: folder)
        try self.init(folder: folder, config: config, loader: WeightLoader(folder: folder))
    }

    /// Loads the base weights through `loader`; callers with extra tensors keep the loader.
    public init(folder: String, config: ModelConfig, loader: WeightLoader) throws {
        self.folder = folder
        self.config = config
        let hidden = config.hiddenSize
        embedding = try loader.matrix("model.embed_tokens.weight", rows: config.vocabSize, columns: hidden)
        layers = try (0..<config.numHiddenLayers).map { index in
            try Self.loadLayer(index, config: config, loader: loader)
        }
        finalNorm = try loader.vector("model.norm.weight", count: hidden)
        // HF ties the head to the embeddings when the config says so, whatever the file holds.
        lmHead =
            config.tieWordEmbeddings
            ? embedding
            : try loader.matrix("lm_head.weight", rows: config.vocabSize, columns: hidden)
        inverseFrequencies = config.rope.inverseFrequencies(headDim: config.headDim)
    }

    /// A model assembled from weights already in memory (e.g. a vanilla checkpoint turned
    /// into a recursive one at load time): shares the matrices it is given, copies nothing.
    init(
        folder: String, config: ModelConfig, embedding: WeightMatrix, layers: [DecoderLayerWeights],
        finalNorm: WeightVector, lmHead: WeightMatrix
    ) {
        self.folder = folder
        self.config = config
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.lmHead = lmHead
        inverseFrequencies = config.rope.inverseFrequencies(headDim: config.headDim)
    }

    private static func loadLayer(_ index: Int, config: ModelConfig, loader: WeightLoader) throws
        -> DecoderLayerWeights
    {
        let prefix = "model.layers.\(index)."
        let hidden = config.hiddenSize
        let ffn = config.intermediateSize
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> WeightMatrix {
            try loader.matrix(prefix + name + ".weight", rows: rows, columns: columns)
        }
        func bias(_ name: String, _ count: Int, _ present: Bool) throws -> WeightVector? {
            present ? try loader.vector(prefix + name + ".bias", count: count) : nil
        }
        return DecoderLayerWeights(
            inputNorm: try loader.vector(prefix + "input_layernorm.weight", count: hidden),
            query: try matrix("self_attn.q_proj", config.queryDim, hidden),
            key: try matrix("self_attn.k_proj", config.kvDim, hidden),
            value: try matrix("self_attn.v_proj", config.kvDim, hidden),
            output: try matrix("self_attn.o_proj", hidden, config.queryDim),
            queryBias: try bias("self_attn.q_proj", config.queryDim, config.hasQKVBias),
            keyBias: try bias("self_attn.k_proj", config.kvDim, config.hasQKVBias),
            valueBias: try bias("self_attn.v_proj", config.kvDim, config.hasQKVBias),
            outputBias: try bias("self_attn.o_proj", hidden, config.hasOutputBias),
            postAttentionNorm: try loader.vector(prefix + "post_attention_layernorm.weight", count: hidden),
            gate: try matrix("mlp.gate_proj", ffn, hidden),
            up: try matrix("mlp.up_proj", ffn, hidden),
            down: try matrix("mlp.down_proj", hidden, ffn),
            gateBias: try bias("mlp.gate_proj", ffn, config.hasMLPBias),
            upBias: try bias("mlp.up_proj", ffn, config.hasMLPBias),
            downBias: try bias("mlp.down_proj", hidden, config.hasMLPBias),
            window: config.layerWindows[index])
    }

    /// The same model with every weight matrix stored as `format` (norms stay f32): what
    /// `--dtype` does at load time. The head stays tied to the embedding when it was.
    public func converted(to format: WeightFormat) throws -> Model {
        let embedding = try embedding.converted(to: format)
        let layers = try layers.map { layer in
            DecoderLayerWeights(
                inputNorm: layer.inputNorm, query: try layer.query.converted(to: format),
                key: try layer.key.converted(to: format), value: try layer.value.converted(to: format),
                output: try layer.output.converted(to: format), queryBias: layer.queryBias, keyBias: layer.keyBias,
                valueBias: layer.valueBias, outputBias: layer.outputBias, postAttentionNorm: layer.postAttentionNorm,
                gate: try layer.gate.converted(to: format), up: try layer.up.converted(to: format),
                down: try layer.down.converted(to: format), gateBias: layer.gateBias, upBias: layer.upBias,
                downBias: layer.downBias, window: layer.window)
        }
        let head = lmHead === self.embedding ? embedding : try lmHead.converted(to: format)
        return Model(
            folder: folder, config: config, embedding: embedding, layers: layers, finalNorm: finalNorm, lmHead: head)
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
            DecoderLayerWeights(
                inputNorm: ones, query: try matrix("q", hidden, hidden), key: try matrix("k", hidden, hidden),
                value: try matrix("v", hidden, hidden), output: try matrix("o", hidden, hidden), queryBias: nil,
                keyBias: nil, valueBias: nil, outputBias: nil, postAttentionNorm: ones,
                gate: try matrix("gate", ffn, hidden), up: try matrix("up", ffn, hidden), down: try matrix("down", hidden, ffn),
                gateBias: nil, upBias: nil, downBias: nil, window: config.layerWindows[i])
        }
        return Model(
            folder: "random-\(hidden)x\(layers)x\(heads)x\(ffn)", config: config, embedding: embedding,
            layers: decoderLayers, finalNorm: ones, lmHead: embedding)
    }

    /// Weight bytes one decoded token reads at full depth: every layer matrix and the head
    /// (the embedding contributes one row), plus norms.
    public var decodeBytesPerToken: Int {
        var bytes = lmHead.byteCount + vectors.reduce(0) { $0 + $1.count * 4 }
        for layer in layers {
            bytes += [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down]
                .reduce(0) { $0 + $1.byteCount }
        }
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
        var all = [embedding]
        for layer in layers {
            all += [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down]
        }
        if lmHead !== embedding { all.append(lmHead) }
        return all
    }

    /// Every weight vector (norms and biases).
    public var vectors: [WeightVector] {
        var all = [finalNorm]
        for layer in layers {
            all += [layer.inputNorm, layer.postAttentionNorm]
            all += [layer.queryBias, layer.keyBias, layer.valueBias, layer.outputBias].compactMap { $0 }
            all += [layer.gateBias, layer.upBias, layer.downBias].compactMap { $0 }
        }
        return all
    }

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
