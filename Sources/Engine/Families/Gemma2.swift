/// Gemma 2 (transformers `Gemma2ForCausalLM`): Gemma's layer with a norm after each branch
/// too (input, post_attention, pre_feedforward, post_feedforward: all 1 + w), attention
/// scores scaled by query_pre_attn_scalar^-0.5 and soft-capped (cap * tanh(s / cap)), the
/// final logits soft-capped, and sliding-window layers alternating with global ones (even
/// layers slide). GGUF (`gemma2`) stores the caps and the window but not the query scale:
/// llama.cpp takes 1/sqrt(head_dim), except for the 46-layer 27B (hidden / heads).
public enum Gemma2: ModelFamily {
    public static let modelTypes = ["gemma2"]
    public static let ggufArchitectures = ["gemma2"]

    public static var defaults: FamilyDefaults {
        var defaults = Gemma.defaults
        defaults.activationKey = "hidden_activation"
        return defaults
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        Gemma.scaleEmbeddings(&config)
        config.extraNorms = .branchOutputs
        config.attentionScale = 1 / Float(try keys.double("query_pre_attn_scalar") ?? 256).squareRoot()
        config.attentionSoftcap = keys.contains("attn_logit_softcapping") ? try keys.double("attn_logit_softcapping").map(Float.init) : 50
        config.logitSoftcap = keys.contains("final_logit_softcapping") ? try keys.double("final_logit_softcapping").map(Float.init) : 30
        let window = keys.contains("sliding_window") ? try keys.int("sliding_window") : 4096
        config.layerWindows =
            try config.windows(layerTypes: keys, window: window)
            ?? (0..<config.numHiddenLayers).map { $0 % 2 == 0 ? window : nil }
    }

    public static func configKeys(gguf: GGUFKeys) throws -> [String: JSONValue] {
        var keys: [String: JSONValue] = [
            "query_pre_attn_scalar": .double(try Gemma3.ggufQueryScalar(gguf, largeModelLayers: 46)),
            "attn_logit_softcapping": try gguf.double("attn_logit_softcapping").map(JSONValue.double) ?? .double(50),
            "final_logit_softcapping": try gguf.double("final_logit_softcapping").map(JSONValue.double) ?? .double(30),
        ]
        keys["sliding_window"] = .int(try gguf.int("attention.sliding_window") ?? 4096)
        return keys
    }

    public static func globalNames(_ source: any TensorSource) -> GlobalNames {
        Gemma.normsPlusOne(source, source.format == .gguf ? .gguf : .huggingFace)
    }

    public static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        try Gemma.normsPlusOne(source, branchNormNames(index, source.format, prefix: "model.")).load(source, config)
    }

    /// Gemma 2 and 3 names: HF's post_attention_layernorm is the attention branch's norm here,
    /// pre_feedforward_layernorm the MLP's input norm.
    static func branchNormNames(_ index: Int, _ format: CheckpointFormat, prefix: String) -> LayerNames {
        var names = LayerNames.standard(index, format, prefix: prefix)
        guard format == .safetensors else { return names }
        let p = prefix + "layers.\(index)."
        names.vectors[.feedForwardNorm] = p + "pre_feedforward_layernorm.weight"
        names.vectors[.attentionOutputNorm] = p + "post_attention_layernorm.weight"
        names.vectors[.feedForwardOutputNorm] = p + "post_feedforward_layernorm.weight"
        return names
    }
}
