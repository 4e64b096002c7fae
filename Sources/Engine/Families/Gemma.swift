import Foundation

/// Gemma (transformers `GemmaForCausalLM`): Llama's layer with embeddings scaled by
/// sqrt(hidden_size), RMSNorms that scale by 1 + w, a GeGLU MLP (tanh GELU: the released
/// configs' "gelu" means that), an explicit head_dim and a tied head. llama.cpp's converter
/// stores every norm weight as w + 1, so GGUF files are read as they are.
public enum Gemma: ModelFamily {
    public static let modelTypes = ["gemma"]
    public static let ggufArchitectures = ["gemma"]

    public static var defaults: FamilyDefaults {
        var defaults = FamilyDefaults()
        defaults.headDim = 256
        defaults.context = 8192
        defaults.tiedEmbeddings = true
        defaults.activation = "gelu_pytorch_tanh"
        defaults.bos = 2
        defaults.eos = [1]
        return defaults
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        scaleEmbeddings(&config)
    }

    public static func globalNames(_ source: any TensorSource) -> GlobalNames {
        normsPlusOne(source, source.format == .gguf ? .gguf : .huggingFace)
    }

    public static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        try normsPlusOne(source, LayerNames.standard(index, source.format)).load(source, config)
    }

    /// What every Gemma generation shares: embeddings times sqrt(hidden) in f32, and the
    /// legacy activation name "gelu" read as the tanh approximation (as transformers does).
    static func scaleEmbeddings(_ config: inout ModelConfig) {
        config.embeddingScale = Float(Double(config.hiddenSize).squareRoot())
        if config.hiddenAct == "gelu" { config.hiddenAct = "gelu_pytorch_tanh" }
    }

    /// Safetensors hold w for a scale of 1 + w; GGUF files already hold 1 + w.
    static func normsPlusOne(_ source: any TensorSource, _ names: GlobalNames) -> GlobalNames {
        var names = names
        names.normOffset = source.format == .safetensors ? 1 : 0
        return names
    }

    static func normsPlusOne(_ source: any TensorSource, _ names: LayerNames) -> LayerNames {
        var names = names
        names.normOffset = source.format == .safetensors ? 1 : 0
        return names
    }
}
