/// Qwen3 (transformers `Qwen3ForCausalLM`): Qwen2's layer without its q/k/v biases, with an
/// RMSNorm over each head of q and k before rope (`q_norm`, `k_norm`: head_dim weights), and
/// an explicit head_dim (128 when config.json does not say). GGUF: llama.cpp's `qwen3`, HF's
/// rotary order, `attn_q_norm` / `attn_k_norm`.
public enum Qwen3: ModelFamily {
    public static let modelTypes = ["qwen3"]
    public static let ggufArchitectures = ["qwen3"]

    public static var defaults: FamilyDefaults {
        var defaults = FamilyDefaults()
        defaults.headDim = 128
        defaults.context = 32768
        defaults.bos = nil
        defaults.eos = []
        return defaults
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        config.queryKeyNorm = true
        config.feedForwardBias = false
        config.layerWindows = try Qwen2.slidingWindows(config, keys)
    }
}
