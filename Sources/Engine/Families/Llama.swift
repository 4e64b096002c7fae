/// Llama 2 and 3 (transformers `LlamaForCausalLM`): the reference layer every other family
/// is described against. Optional q/k/v/o biases (`attention_bias`) and MLP biases
/// (`mlp_bias`). In GGUF (llama.cpp's `llama` architecture, also used for Mistral's
/// files) the Q and K rows are stored with adjacent rotary pairs and are put back in HF's
/// order while loading.
public enum Llama: ModelFamily {
    public static let modelTypes = ["llama"]
    public static let ggufArchitectures = ["llama"]

    public static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        var names = LayerNames.standard(index, source.format)
        names.interleavedRope = source.format == .gguf
        return try names.load(source, config)
    }
}
