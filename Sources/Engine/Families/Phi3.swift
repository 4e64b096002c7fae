/// Phi-3, Phi-3.5, Phi-4 and Phi-4-mini (transformers `Phi3ForCausalLM`): Llama's layer with
/// q/k/v fused in `qkv_proj` (rows q, k, v) and gate/up fused in `gate_up_proj` (rows gate,
/// up), split while loading; a sliding window on every layer when `sliding_window` is set;
/// partial rotary (`partial_rotary_factor`) and LongRoPE scaling (`rope_scaling.type`
/// "longrope", older "su"), whose long factors apply when a run's context exceeds
/// `original_max_position_embeddings` (llama.cpp's rule; transformers decides per forward
/// call). GGUF (`phi3`) keeps the fused tensors, stores the factors as `rope_factors_long` /
/// `rope_factors_short` and the attention factor as a key, and no window (llama.cpp drops it).
public enum Phi3: ModelFamily {
    public static let modelTypes = ["phi3"]
    public static let ggufArchitectures = ["phi3"]

    public static var defaults: FamilyDefaults {
        var defaults = FamilyDefaults()
        defaults.context = 4096
        defaults.rmsNormEps = 1e-5
        defaults.bos = 1
        defaults.eos = [32000]
        return defaults
    }

    /// "su" and "yarn" are read as longrope (as transformers 5 does), and the top-level
    /// original_max_position_embeddings wins over one inside rope_scaling.
    public static func standardKeys(_ keys: ConfigKeys) throws -> [String: JSONValue] {
        var raw = keys.raw
        for key in ["rope_scaling", "rope_parameters"] {
            guard var rope = raw[key]?.objectValue else { continue }
            for name in ["type", "rope_type"] where ["su", "yarn"].contains(rope[name]?.stringValue ?? "") {
                rope[name] = .string("longrope")
            }
            if let original = raw["original_max_position_embeddings"] { rope["original_max_position_embeddings"] = original }
            raw[key] = .object(rope)
        }
        return raw
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        config.qkvBias = false
        config.outputBias = false
        config.feedForwardBias = false
        let window = try keys.int("sliding_window")
        config.layerWindows = Array(repeating: window, count: config.numHiddenLayers)
    }

    public static func configKeys(gguf: GGUFKeys) throws -> [String: JSONValue] {
        guard let long = gguf.file.tensor("rope_factors_long.weight"), let short = gguf.file.tensor("rope_factors_short.weight")
        else { return [:] }
        let rotated = try gguf.int("rope.dimension_count") ?? 0
        func factors(_ tensor: GGUFTensorInfo) throws -> JSONValue {
            .array(try GGUFModel.ropeFactors(tensor, file: gguf.file, count: rotated / 2).map { .double(Double($0)) })
        }
        var rope: [String: JSONValue] = [
            "rope_type": .string("longrope"), "long_factor": try factors(long), "short_factor": try factors(short),
        ]
        if let original = try gguf.int("rope.scaling.original_context_length") {
            rope["original_max_position_embeddings"] = .int(original)
        }
        if let factor = try gguf.double("rope.scaling.attn_factor") { rope["attention_factor"] = .double(factor) }
        return ["rope_scaling": .object(rope)]
    }

    public static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        var names = LayerNames.standard(index, source.format)
        let gguf = source.format == .gguf
        let p = gguf ? "blk.\(index)." : "model.layers.\(index)."
        let qkv = p + (gguf ? "attn_qkv.weight" : "self_attn.qkv_proj.weight")
        let gateUp = p + (gguf ? "ffn_up.weight" : "mlp.gate_up_proj.weight")
        for projection in [Projection.query, .key, .value, .gate, .up] { names.matrices[projection] = nil }
        var tensors = try names.load(source, config)
        let hidden = config.hiddenSize, q = config.queryDim, kv = config.kvDim, ffn = config.intermediateSize
        let fused = q + 2 * kv
        tensors[.query] = try source.matrix(qkv, storedRows: fused, columns: hidden, rows: 0..<q, order: nil)
        tensors[.key] = try source.matrix(qkv, storedRows: fused, columns: hidden, rows: q..<(q + kv), order: nil)
        tensors[.value] = try source.matrix(qkv, storedRows: fused, columns: hidden, rows: (q + kv)..<fused, order: nil)
        tensors[.gate] = try source.matrix(gateUp, storedRows: 2 * ffn, columns: hidden, rows: 0..<ffn, order: nil)
        tensors[.up] = try source.matrix(gateUp, storedRows: 2 * ffn, columns: hidden, rows: ffn..<(2 * ffn), order: nil)
        return tensors
    }
}
