import Foundation

/// A checkpoint's configuration in one shape for every family: the sizes and keys every
/// decoder has (read from HF's common config.json keys with the defaults of the family's
/// config class), plus what a family's layers do differently from Llama's, which the
/// family file sets (`ModelFamily.configure`). The forward pass reads only this.
///
/// A GGUF file's metadata is turned into the same config.json keys first (`GGUFModel`), so
/// both formats go through one parser. Unknown keys are kept in `raw`: adaptive-depth
/// architectures read their own objects from the same file.
public struct ModelConfig: Sendable, Equatable {
    /// `model_type`, e.g. "llama", "gemma3_text".
    public var modelType: String
    public var architectures: [String]
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    /// Per-head dimension; HF's default is hidden_size / num_attention_heads.
    public var headDim: Int
    /// The MLP's activation as config.json names it ("silu", "gelu_pytorch_tanh", ...).
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Float
    public var tieWordEmbeddings: Bool
    /// `attention_bias` / `mlp_bias` as written; which biases exist is `qkvBias`,
    /// `outputBias` and `mlpBias`'s effect, decided by the family (Qwen2 always has q/k/v
    /// biases, Mistral none, whatever the key says, as in transformers).
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var qkvBias: Bool
    public var outputBias: Bool
    public var feedForwardBias: Bool
    /// The rope of full-attention layers (the only one for most families).
    public var rope: RopeParameters
    /// The rope of each layer (Gemma 3: local layers use another base, unscaled).
    public var layerRopes: [RopeParameters]
    /// Dimensions of each head that rotate (partial_rotary_factor < 1 rotates the first ones).
    public var rotaryDim: Int
    /// Sliding-window size per layer (nil = full causal attention).
    public var layerWindows: [Int?]
    /// An RMSNorm over each head of q and k before rope (Qwen3, Gemma 3).
    public var queryKeyNorm: Bool
    /// Where a layer normalises besides its two input norms (`NormPlacement`).
    public var extraNorms: NormPlacement
    /// Embedding rows are multiplied by this (Gemma: sqrt(hidden_size)).
    public var embeddingScale: Float?
    /// Recurrent depth: the state goes through the final norm before the coda too (Huginn).
    public var normBeforeCoda: Bool
    /// Attention scores are q.k times this (default 1 / sqrt(head_dim); Gemma 2/3:
    /// query_pre_attn_scalar^-0.5).
    public var attentionScale: Float
    /// Scores become cap * tanh(score / cap) (Gemma 2).
    public var attentionSoftcap: Float?
    /// Logits become cap * tanh(logit / cap) (Gemma 2).
    public var logitSoftcap: Float?
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    /// The dtype the checkpoint says it was saved in (`torch_dtype` in 4.x, `dtype` in 5.x).
    public var dtype: String?
    /// The config.json object as the family reads it, for keys this type does not model.
    public var raw: [String: JSONValue]

    public var kvDim: Int { numKeyValueHeads * headDim }
    public var queryDim: Int { numAttentionHeads * headDim }
    public var hasQKVBias: Bool { qkvBias }
    public var hasOutputBias: Bool { outputBias }
    public var hasMLPBias: Bool { feedForwardBias }
    public var activation: Activation { Activation(hiddenAct) ?? .silu }

    /// The family that reads this config.
    public var family: any ModelFamily.Type { ModelFamilies.family(modelType: modelType) ?? Llama.self }

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
        guard case .object(let object) = try JSONValue.parse(data, file: file) else {
            throw EngineError("\(file): expected a JSON object")
        }
        return try parse(object, file: file)
    }

    /// Reads a config.json object: the family by `model_type`, its key names made standard,
    /// the common keys with the family's defaults, then the family's own.
    static func parse(_ object: [String: JSONValue], file: String) throws -> ModelConfig {
        let given = ConfigKeys(raw: object, file: file)
        let typeName = try given.requiredString("model_type")
        guard let family = ModelFamilies.family(modelType: typeName) else {
            throw EngineError(
                "\(file): model_type '\(typeName)' is not supported (supported: \(ModelFamilies.modelTypes.joined(separator: ", ")))")
        }
        let keys = ConfigKeys(raw: try family.standardKeys(given), file: file)
        var config = try ModelConfig(keys, modelType: typeName, defaults: family.defaults)
        try family.configure(&config, keys)
        try config.validate(file: file)
        return config
    }

    /// The keys every family shares, with `defaults` where a key is absent.
    private init(_ keys: ConfigKeys, modelType: String, defaults: FamilyDefaults) throws {
        self.modelType = modelType
        raw = keys.raw
        architectures = try keys.strings("architectures") ?? []
        vocabSize = try keys.requiredInt("vocab_size")
        hiddenSize = try keys.requiredInt("hidden_size")
        intermediateSize = try keys.requiredInt("intermediate_size")
        numHiddenLayers = try keys.requiredInt("num_hidden_layers")
        numAttentionHeads = try keys.requiredInt("num_attention_heads")
        guard numAttentionHeads > 0 else { throw keys.error("num_attention_heads", "must be positive") }
        numKeyValueHeads = try keys.int("num_key_value_heads") ?? defaults.keyValueHeads ?? numAttentionHeads
        headDim = try keys.int("head_dim") ?? defaults.headDim ?? hiddenSize / numAttentionHeads
        hiddenAct = try keys.string(defaults.activationKey) ?? defaults.activation
        maxPositionEmbeddings = try keys.int("max_position_embeddings") ?? defaults.context
        rmsNormEps = Float(try keys.double("rms_norm_eps") ?? defaults.rmsNormEps)
        tieWordEmbeddings = try keys.bool("tie_word_embeddings") ?? defaults.tiedEmbeddings
        attentionBias = try keys.bool("attention_bias") ?? false
        mlpBias = try keys.bool("mlp_bias") ?? false
        qkvBias = attentionBias
        outputBias = attentionBias
        feedForwardBias = mlpBias
        do {
            rope = try RopeParameters.resolve(
                scaling: keys.raw["rope_scaling"], parameters: keys.raw["rope_parameters"],
                topLevelTheta: try keys.double("rope_theta") ?? defaults.ropeTheta,
                topLevelPartialFactor: try keys.double("partial_rotary_factor"),
                maxPositionEmbeddings: maxPositionEmbeddings)
        } catch let error as EngineError {
            throw EngineError("\(keys.file): \(error.message)")
        }
        layerRopes = Array(repeating: rope, count: max(numHiddenLayers, 0))
        rotaryDim = rope.rotaryDimension(headDim: headDim)
        layerWindows = Array(repeating: nil, count: max(numHiddenLayers, 0))
        queryKeyNorm = false
        extraNorms = .none
        embeddingScale = nil
        normBeforeCoda = false
        attentionScale = 1 / Float(headDim).squareRoot()
        attentionSoftcap = nil
        logitSoftcap = nil
        bosTokenId = keys.contains("bos_token_id") ? try keys.int("bos_token_id") : defaults.bos
        eosTokenIds = keys.contains("eos_token_id") ? try keys.ints("eos_token_id") ?? [] : defaults.eos
        dtype = try keys.string("dtype") ?? keys.string("torch_dtype")
    }

    /// Windows per layer from `layer_types` ("full_attention" / "sliding_attention"), as
    /// transformers 4.5x and 5.x write them; nil when the config has no such list.
    func windows(layerTypes keys: ConfigKeys, window: Int?) throws -> [Int?]? {
        guard let types = try keys.strings("layer_types") else { return nil }
        guard types.count == numHiddenLayers else {
            throw keys.error("layer_types", "has \(types.count) entries but num_hidden_layers is \(numHiddenLayers)")
        }
        return try types.map { type in
            switch type {
            case "full_attention": return nil
            case "sliding_attention": return window
            default: throw keys.error("layer_types", "entry '\(type)' is not supported (full_attention, sliding_attention)")
            }
        }
    }

    func validate(file: String) throws {
        func fail(_ message: String) -> EngineError { EngineError("\(file): \(message)") }
        func positive(_ value: Int, _ key: String) throws {
            guard value > 0 else { throw fail("\(key) must be positive, got \(value)") }
        }
        try positive(vocabSize, "vocab_size")
        try positive(hiddenSize, "hidden_size")
        try positive(intermediateSize, "intermediate_size")
        try positive(numHiddenLayers, "num_hidden_layers")
        try positive(numKeyValueHeads, "num_key_value_heads")
        try positive(headDim, "head_dim")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        guard rotaryDim % 2 == 0, rotaryDim > 0, rotaryDim <= headDim else {
            throw fail("rotary dimension \(rotaryDim) must be even and in 2...head_dim (\(headDim))")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("num_attention_heads (\(numAttentionHeads)) must be a multiple of num_key_value_heads (\(numKeyValueHeads))")
        }
        guard Activation(hiddenAct) != nil else {
            let known = Activation.allCases.flatMap(\.names).joined(separator: ", ")
            throw fail("hidden_act '\(hiddenAct)' is not supported (supported: \(known))")
        }
        guard rmsNormEps > 0 else { throw fail("rms_norm_eps must be positive") }
        for case let window? in layerWindows where window <= 0 {
            throw fail("sliding_window must be positive, got \(window)")
        }
        guard layerWindows.count == numHiddenLayers, layerRopes.count == numHiddenLayers else {
            throw fail("internal: per-layer settings do not cover the \(numHiddenLayers) layers")
        }
        for cap in [attentionSoftcap, logitSoftcap].compactMap({ $0 }) where !(cap > 0 && cap.isFinite) {
            throw fail("soft-capping value \(cap) must be a positive number")
        }
        for rope in layerRopes where rope.ropeType == "longrope" {
            for factors in [rope.shortFactor, rope.longFactor].compactMap({ $0 }) where factors.count != rotaryDim / 2 {
                throw fail("longrope factor lists have \(factors.count) entries, the rotary dimension needs \(rotaryDim / 2)")
            }
        }
    }
}

extension ModelConfig: Encodable {
    /// Writes the config back as config.json keys in transformers 5.x form: the object as
    /// read, with the rope in `rope_parameters`.
    public func encode(to encoder: any Encoder) throws {
        var object = raw
        object["rope_scaling"] = nil
        object["rope_theta"] = nil
        object["rope_parameters"] = try JSONValue.parse(JSONEncoder().encode(rope), file: "rope")
        try JSONValue.object(object).encode(to: encoder)
    }
}

/// The MLP activations the engine computes.
public enum Activation: CaseIterable, Sendable {
    case silu
    /// GELU with tanh approximation (HF "gelu_pytorch_tanh", "gelu_new").
    case geluTanh
    /// Exact GELU with erf (HF "gelu").
    case gelu

    var names: [String] {
        switch self {
        case .silu: ["silu", "swish"]
        case .geluTanh: ["gelu_pytorch_tanh", "gelu_new"]
        case .gelu: ["gelu"]
        }
    }

    init?(_ name: String) {
        guard let match = Self.allCases.first(where: { $0.names.contains(name) }) else { return nil }
        self = match
    }
}

/// Norms a layer applies besides its attention and MLP input norms.
public enum NormPlacement: Sendable, Equatable {
    case none
    /// Each branch's output is normalised before it is added to the residual (Gemma 2/3:
    /// post_attention_layernorm, post_feedforward_layernorm).
    case branchOutputs
    /// The residual is normalised after each add (Huginn's sandwich blocks).
    case afterResiduals
}

/// Defaults of a family's HF config class for the common keys.
public struct FamilyDefaults: Sendable {
    public var keyValueHeads: Int? = nil
    public var headDim: Int? = nil
    public var context: Int = 2048
    public var rmsNormEps: Double = 1e-6
    public var ropeTheta: Double = 10_000
    public var tiedEmbeddings = false
    public var activationKey = "hidden_act"
    public var activation = "silu"
    public var bos: Int? = 1
    public var eos: [Int] = [2]

    public init() {}
}
