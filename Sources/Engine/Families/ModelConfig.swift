import Foundation

/// The `model_type`s the engine runs. Each is a Llama-family decoder; they differ only in
/// defaults and details (biases, sliding-window attention).
public enum ModelArchitecture: String, Sendable, Codable, CaseIterable {
    case llama
    case mistral
    case qwen2
}

/// `config.json` of a Hugging Face checkpoint, as transformers 4.x and 5.x write it.
///
/// Keys are HF's snake_case names (see `CodingKeys`). Unknown keys are ignored here but
/// kept in `raw`, because adaptive-depth architectures read their own keys from the same
/// file. Missing optional keys take the defaults of HF's config class for the model type;
/// the five size keys (vocabulary, hidden, intermediate, layers, heads) are required,
/// since a checkpoint without them cannot be meant for its tensors.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var modelType: ModelArchitecture
    public var architectures: [String]
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    /// Per-head dimension; HF's default is hidden_size / num_attention_heads.
    public var headDim: Int
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Float
    public var tieWordEmbeddings: Bool
    /// Llama only: biases on q/k/v/o projections. Qwen2 always has q/k/v biases and
    /// Mistral none, whatever this key says, as in transformers (see `hasQKVBias`).
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var rope: RopeParameters
    /// Sliding-window size per layer (nil = full causal attention), from mistral's
    /// `sliding_window` or qwen2's `use_sliding_window` / `max_window_layers` / `layer_types`.
    public var layerWindows: [Int?]
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    /// The dtype the checkpoint says it was saved in (`torch_dtype` in 4.x, `dtype` in 5.x).
    public var dtype: String?
    /// The whole config.json object, for keys this type does not model.
    public var raw: [String: JSONValue]

    public var kvDim: Int { numKeyValueHeads * headDim }
    public var queryDim: Int { numAttentionHeads * headDim }
    public var hasQKVBias: Bool { modelType == .qwen2 || (modelType == .llama && attentionBias) }
    public var hasOutputBias: Bool { modelType == .llama && attentionBias }
    public var hasMLPBias: Bool { modelType == .llama && mlpBias }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case architectures
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings"
        case rmsNormEps = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers"
        case layerTypes = "layer_types"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case torchDtype = "torch_dtype"
        case dtype
    }

    /// Reads and validates `folder/config.json`.
    public static func load(folder: String) throws -> ModelConfig {
        let path = (folder as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: path) else {
            throw EngineError("\(path): no such file (a model folder needs config.json)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError("\(path): cannot read")
        }
        return try parse(data, file: path)
    }

    /// Parses config.json bytes; errors name `file`.
    public static func parse(_ data: Data, file: String) throws -> ModelConfig {
        guard case .object = try JSONValue.parse(data, file: file) else {
            throw EngineError("\(file): expected a JSON object")
        }
        do {
            let config = try JSONDecoder().decode(ModelConfig.self, from: data)
            try config.validate()
            return config
        } catch {
            throw EngineError("\(file): \(describe(error))")
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        raw = try decoder.singleValueContainer().decode([String: JSONValue].self)

        guard let typeName = try c.decodeIfPresent(String.self, forKey: .modelType) else {
            throw EngineError("key 'model_type': missing")
        }
        guard let modelType = ModelArchitecture(rawValue: typeName) else {
            let known = ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")
            throw EngineError("model_type '\(typeName)' is not supported (supported: \(known))")
        }
        self.modelType = modelType
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures) ?? []

        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        guard numAttentionHeads > 0 else { throw EngineError("num_attention_heads must be positive") }

        // Defaults below are those of LlamaConfig / MistralConfig / Qwen2Config in transformers.
        numKeyValueHeads =
            try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads)
            ?? (modelType == .mistral ? 8 : numAttentionHeads)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / numAttentionHeads
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        let defaultContext = switch modelType {
        case .llama: 2048
        case .mistral: 4096 * 32
        case .qwen2: 32768
        }
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? defaultContext
        rmsNormEps = Float(try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false

        rope = try RopeParameters.resolve(
            scaling: raw["rope_scaling"], parameters: raw["rope_parameters"],
            topLevelTheta: try c.decodeIfPresent(Double.self, forKey: .ropeTheta),
            topLevelPartialFactor: raw["partial_rotary_factor"]?.doubleValue,
            maxPositionEmbeddings: maxPositionEmbeddings)

        switch modelType {
        case .llama:
            layerWindows = Array(repeating: nil, count: max(numHiddenLayers, 0))
        case .mistral:
            let window = try Self.decodeNullable(c, .slidingWindow, default: 4096)
            layerWindows = Array(repeating: window, count: max(numHiddenLayers, 0))
        case .qwen2:
            // Qwen2Config: the window exists only with use_sliding_window; layer i slides
            // when layer_types says so, by default when i >= max_window_layers.
            let useWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? false
            let declared = try Self.decodeNullable(c, .slidingWindow, default: 4096)
            let window = useWindow ? declared : nil
            let firstSliding = try c.decodeIfPresent(Int.self, forKey: .maxWindowLayers) ?? 28
            let types =
                try c.decodeIfPresent([String].self, forKey: .layerTypes)
                ?? (0..<max(numHiddenLayers, 0)).map {
                    window != nil && $0 >= firstSliding ? "sliding_attention" : "full_attention"
                }
            guard types.count == numHiddenLayers else {
                throw EngineError("layer_types has \(types.count) entries but num_hidden_layers is \(numHiddenLayers)")
            }
            layerWindows = try types.map { type in
                switch type {
                case "full_attention": return nil
                case "sliding_attention": return window
                default: throw EngineError("layer_types entry '\(type)' is not supported")
                }
            }
        }

        bosTokenId = try Self.decodeNullable(c, .bosTokenId, default: modelType == .qwen2 ? nil : 1)
        eosTokenIds = try Self.decodeEOS(c, default: modelType == .qwen2 ? [] : [2])
        dtype =
            try c.decodeIfPresent(String.self, forKey: .dtype)
            ?? c.decodeIfPresent(String.self, forKey: .torchDtype)
    }

    /// Writes the config back in transformers 5.x form (rope in `rope_parameters`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(architectures, forKey: .architectures)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(mlpBias, forKey: .mlpBias)
        try c.encode(rope, forKey: .ropeParameters)
        try c.encode(layerWindows, forKey: .slidingWindow)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encode(eosTokenIds, forKey: .eosTokenId)
        try c.encodeIfPresent(dtype, forKey: .dtype)
    }

    /// An integer key where null means "none" and absence means HF's default.
    private static func decodeNullable(
        _ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, default fallback: Int?
    ) throws -> Int? {
        guard c.contains(key) else { return fallback }
        return try c.decodeNil(forKey: key) ? nil : c.decode(Int.self, forKey: key)
    }

    private static func decodeEOS(_ c: KeyedDecodingContainer<CodingKeys>, default fallback: [Int]) throws -> [Int] {
        guard c.contains(.eosTokenId) else { return fallback }
        if try c.decodeNil(forKey: .eosTokenId) { return [] }
        if let single = try? c.decode(Int.self, forKey: .eosTokenId) { return [single] }
        guard let list = try? c.decode([Int].self, forKey: .eosTokenId) else {
            throw EngineError("key 'eos_token_id': expected an integer or a list of integers")
        }
        return list
    }

    func validate() throws {
        func positive(_ value: Int, _ key: String) throws {
            guard value > 0 else { throw EngineError("\(key) must be positive, got \(value)") }
        }
        try positive(vocabSize, "vocab_size")
        try positive(hiddenSize, "hidden_size")
        try positive(intermediateSize, "intermediate_size")
        try positive(numHiddenLayers, "num_hidden_layers")
        try positive(numKeyValueHeads, "num_key_value_heads")
        try positive(headDim, "head_dim")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        guard headDim % 2 == 0 else { throw EngineError("head_dim must be even for rotary embeddings, got \(headDim)") }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw EngineError(
                "num_attention_heads (\(numAttentionHeads)) must be a multiple of num_key_value_heads (\(numKeyValueHeads))")
        }
        guard hiddenAct == "silu" else {
            throw EngineError("hidden_act '\(hiddenAct)' is not supported (supported: silu)")
        }
        guard rmsNormEps > 0 else { throw EngineError("rms_norm_eps must be positive") }
        for case let window? in layerWindows where window <= 0 {
            throw EngineError("sliding_window must be positive, got \(window)")
        }
    }
}
