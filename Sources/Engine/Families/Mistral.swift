/// Mistral (transformers `MistralForCausalLM`): Llama's layer with a sliding attention
/// window on every layer (`sliding_window`, default 4096; null for none), no biases, and
/// MistralConfig's defaults. llama.cpp writes Mistral checkpoints as `llama` GGUF files.
public enum Mistral: ModelFamily {
    public static let modelTypes = ["mistral"]
    public static let ggufArchitectures: [String] = []

    public static var defaults: FamilyDefaults {
        var defaults = FamilyDefaults()
        defaults.keyValueHeads = 8
        defaults.context = 4096 * 32
        return defaults
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        config.qkvBias = false
        config.outputBias = false
        config.feedForwardBias = false
        let window = keys.contains("sliding_window") ? try keys.int("sliding_window") : 4096
        config.layerWindows = Array(repeating: window, count: config.numHiddenLayers)
    }
}
