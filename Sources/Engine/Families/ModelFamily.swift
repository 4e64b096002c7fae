/// A model family: how its checkpoints name their config keys and tensors (in safetensors
/// and in GGUF) and what its layers do differently from Llama's. Everything else - the
/// forward pass, the depth architectures, generation - is shared, so a family is one file
/// plus one line in `ModelFamilies.all` (docs/adding-a-model-family.md).
///
/// The defaults are Llama's: HF names `model.layers.{i}.self_attn.q_proj.weight`, GGUF
/// names `blk.{i}.attn_q.weight`; a family overrides what it does differently.
public protocol ModelFamily: Sendable {
    /// `model_type` values of config.json this family reads.
    static var modelTypes: [String] { get }
    /// `general.architecture` values of GGUF files this family reads.
    static var ggufArchitectures: [String] { get }
    /// Defaults of the family's HF config class for the keys every family has.
    static var defaults: FamilyDefaults { get }
    /// config.json with the common keys under their Llama names (a family that names them
    /// otherwise, or nests them, rewrites them here); the object itself by default.
    static func standardKeys(_ keys: ConfigKeys) throws -> [String: JSONValue]
    /// Sets what this family's layers do differently (windows, biases, norms, scales).
    static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws
    /// config.json keys that a GGUF file's family-specific metadata stands for (the common
    /// sizes are read for every family by `GGUFModel`).
    static func configKeys(gguf: GGUFKeys) throws -> [String: JSONValue]
    /// The tensor names of the embedding, final norm and head in `source`.
    static func globalNames(_ source: any TensorSource) -> GlobalNames
    /// Layer `index`'s tensors from `source`, shapes checked against `config`.
    static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors
    /// Where this family keeps an adaptive-depth tensor that depthscope's own checkpoints
    /// name `name` (docs/architectures.md 1.2); the same name by default.
    static func depthTensorName(_ name: String) -> String
}

extension ModelFamily {
    public static var defaults: FamilyDefaults { FamilyDefaults() }

    public static func standardKeys(_ keys: ConfigKeys) throws -> [String: JSONValue] { keys.raw }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {}

    public static func configKeys(gguf: GGUFKeys) throws -> [String: JSONValue] { [:] }

    public static func globalNames(_ source: any TensorSource) -> GlobalNames {
        source.format == .gguf ? .gguf : .huggingFace
    }

    public static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        try LayerNames.standard(index, source.format).load(source, config)
    }

    public static func depthTensorName(_ name: String) -> String { name }
}

/// Every family the engine runs. A new family is one file and one line here.
public enum ModelFamilies {
    public static let all: [any ModelFamily.Type] = [
        Llama.self,
        Mistral.self,
        Qwen2.self,
        Qwen3.self,
        Gemma.self,
        Gemma2.self,
        Gemma3.self,
        Phi3.self,
        Huginn.self,
    ]

    public static func family(modelType: String) -> (any ModelFamily.Type)? {
        all.first { $0.modelTypes.contains(modelType) }
    }

    public static func family(ggufArchitecture: String) -> (any ModelFamily.Type)? {
        all.first { $0.ggufArchitectures.contains(ggufArchitecture) }
    }

    public static var modelTypes: [String] { all.flatMap { $0.modelTypes } }
    public static var ggufArchitectures: [String] { all.flatMap { $0.ggufArchitectures } }
}

/// Names of the tensors outside the layers.
public struct GlobalNames: Sendable {
    public var embedding: String
    public var finalNorm: String
    /// Absent when the head is tied to the embedding.
    public var head: String
    /// Added to the final norm's weight (Gemma stores w for a scale of 1 + w).
    public var normOffset: Float = 0

    public static let huggingFace = huggingFace(prefix: "model.")

    /// HF names under `prefix` (`model.`; a multimodal checkpoint's text model nests deeper).
    public static func huggingFace(prefix: String, head: String = "lm_head.weight") -> GlobalNames {
        GlobalNames(embedding: prefix + "embed_tokens.weight", finalNorm: prefix + "norm.weight", head: head)
    }
    public static let gguf = GlobalNames(embedding: "token_embd.weight", finalNorm: "output_norm.weight", head: "output.weight")
}

/// The names of one layer's tensors, and the loader that takes them by these names.
public struct LayerNames: Sendable {
    /// Projection weights (`.weight`); their biases, where the config has them, are the
    /// same names with `.bias`.
    public var matrices: [Projection: String]
    public var vectors: [LayerVector: String]
    /// Q and K rows stored with adjacent rotary pairs (llama.cpp's Llama GGUF layout).
    public var interleavedRope = false
    /// Added to every norm weight (Gemma's checkpoints store w for a scale of 1 + w).
    public var normOffset: Float = 0

    /// Llama's names in `format`: HF `model.layers.{i}.self_attn.q_proj` (under `prefix`),
    /// GGUF `blk.{i}.attn_q`.
    public static func standard(_ index: Int, _ format: CheckpointFormat, prefix: String = "model.") -> LayerNames {
        switch format {
        case .safetensors:
            let p = prefix + "layers.\(index)."
            return LayerNames(
                matrices: [
                    .query: p + "self_attn.q_proj", .key: p + "self_attn.k_proj", .value: p + "self_attn.v_proj",
                    .output: p + "self_attn.o_proj", .gate: p + "mlp.gate_proj", .up: p + "mlp.up_proj",
                    .down: p + "mlp.down_proj",
                ],
                vectors: [
                    .inputNorm: p + "input_layernorm.weight", .feedForwardNorm: p + "post_attention_layernorm.weight",
                    .queryNorm: p + "self_attn.q_norm.weight", .keyNorm: p + "self_attn.k_norm.weight",
                ])
        case .gguf:
            let p = "blk.\(index)."
            return LayerNames(
                matrices: [
                    .query: p + "attn_q", .key: p + "attn_k", .value: p + "attn_v", .output: p + "attn_output",
                    .gate: p + "ffn_gate", .up: p + "ffn_up", .down: p + "ffn_down",
                ],
                vectors: [
                    .inputNorm: p + "attn_norm.weight", .feedForwardNorm: p + "ffn_norm.weight",
                    .queryNorm: p + "attn_q_norm.weight", .keyNorm: p + "attn_k_norm.weight",
                    .attentionOutputNorm: p + "post_attention_norm.weight", .feedForwardOutputNorm: p + "post_ffw_norm.weight",
                ])
        }
    }

    /// Loads what `config` says a layer has: the projections, their biases where the config
    /// has them, the two input norms, q/k norms and output norms where the family uses them.
    public func load(_ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        var tensors = LayerTensors()
        let hidden = config.hiddenSize
        let rope = interleavedRope ? RowOrder.halfSplitFromInterleaved(headSize: config.headDim) : nil
        for projection in Projection.allCases {
            guard let name = matrices[projection] else { continue }
            let (input, output) = projection.shape(config)
            let order = projection == .query || projection == .key ? rope : nil
            tensors[projection] = try source.matrix(name + ".weight", rows: output, columns: input, order: order)
            if config.hasBias(projection) {
                tensors[LayerVector.bias(projection)] = try source.vector(name + ".bias", count: output, order: order)
            }
        }
        func norm(_ role: LayerVector, _ count: Int) throws {
            guard let name = vectors[role] else { throw EngineError("internal: no tensor name for \(role)") }
            tensors[role] = try source.vector(name, count: count, adding: normOffset)
        }
        try norm(.inputNorm, hidden)
        try norm(.feedForwardNorm, hidden)
        if config.queryKeyNorm {
            try norm(.queryNorm, config.headDim)
            try norm(.keyNorm, config.headDim)
        }
        if config.extraNorms != .none {
            try norm(.attentionOutputNorm, hidden)
            try norm(.feedForwardOutputNorm, hidden)
        }
        return tensors
    }
}

extension ModelConfig {
    /// Whether the layers of this config have a bias on `projection`.
    func hasBias(_ projection: Projection) -> Bool {
        switch projection {
        case .query, .key, .value: qkvBias
        case .output: outputBias
        case .gate, .up, .down: feedForwardBias
        }
    }
}
