/// Qwen2 and Qwen2.5 (transformers `Qwen2ForCausalLM`): Llama's layer with q/k/v biases
/// always (whatever `attention_bias` says) and none on o_proj or the MLP, and sliding
/// windows only with `use_sliding_window`: on the layers `layer_types` names, by default
/// those from `max_window_layers` on. GGUF files (llama.cpp's `qwen2`) keep HF's rotary
/// order and store no window, so every layer attends fully there, as in llama.cpp.
public enum Qwen2: ModelFamily {
    public static let modelTypes = ["qwen2"]
    public static let ggufArchitectures = ["qwen2"]

    public static var defaults: FamilyDefaults {
        var defaults = FamilyDefaults()
        defaults.context = 32768
        defaults.bos = nil
        defaults.eos = []
        return defaults
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        config.qkvBias = true
        config.outputBias = false
        config.feedForwardBias = false
        config.layerWindows = try slidingWindows(config, keys)
    }

    /// Qwen2Config's rule (also Qwen3's): the window exists only with use_sliding_window;
    /// layer i slides when layer_types says so, by default when i >= max_window_layers.
    static func slidingWindows(_ config: ModelConfig, _ keys: ConfigKeys) throws -> [Int?] {
        let declared = keys.contains("sliding_window") ? try keys.int("sliding_window") : 4096
        let window = try keys.bool("use_sliding_window") ?? false ? declared : nil
        if let windows = try config.windows(layerTypes: keys, window: window) { return windows }
        let firstSliding = try keys.int("max_window_layers") ?? 28
        return (0..<config.numHiddenLayers).map { window != nil && $0 >= firstSliding ? window : nil }
    }
}
