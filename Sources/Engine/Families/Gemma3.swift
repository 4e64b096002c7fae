/// Gemma 3 (transformers `Gemma3ForCausalLM`, `gemma3_text`; and the text model of the
/// multimodal `Gemma3ForConditionalGeneration`, `gemma3`): Gemma 2's layer with q/k norms
/// (1 + w, before rope), no soft-capping by default, sliding-window layers with their own
/// rope base (`rope_local_base_freq`, default 10000; 5.x: `rope_parameters.sliding_attention`)
/// between global ones (every `sliding_window_pattern`-th, default 6th, or as `layer_types`
/// says), whose rope (base 1e6) alone carries the linear scaling. The released configs lean
/// on the class defaults (head_dim 256, 8 heads, 4 kv heads, ...), which this file supplies.
/// GGUF (`gemma3`) stores both rope bases and the window but not the pattern (llama.cpp:
/// every 6th layer global) or the query scale (1/sqrt(head_dim), hidden / heads for the
/// 62-layer 27B).
public enum Gemma3: ModelFamily {
    public static let modelTypes = ["gemma3_text", "gemma3"]
    public static let ggufArchitectures = ["gemma3"]

    public static var defaults: FamilyDefaults {
        var defaults = Gemma2.defaults
        defaults.context = 131_072
        defaults.ropeTheta = 1_000_000
        return defaults
    }

    /// Gemma3TextConfig's defaults for the keys every family reads.
    static let classDefaults: [String: JSONValue] = [
        "vocab_size": .int(262_208), "hidden_size": .int(2304), "intermediate_size": .int(9216),
        "num_hidden_layers": .int(26), "num_attention_heads": .int(8), "num_key_value_heads": .int(4),
        "head_dim": .int(256), "rms_norm_eps": .double(1e-6),
    ]

    /// The multimodal config's `text_config` lifted to the top (its ids and dtype stay).
    public static func standardKeys(_ keys: ConfigKeys) throws -> [String: JSONValue] {
        var raw = keys.raw
        if let text = try keys.object("text_config") {
            let kept: Set = ["model_type", "bos_token_id", "eos_token_id", "pad_token_id"]
            for (key, value) in text.raw where !(kept.contains(key) && raw[key] != nil) && key != "model_type" {
                raw[key] = value
            }
        }
        for (key, value) in classDefaults where raw[key] == nil { raw[key] = value }
        return raw
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        Gemma.scaleEmbeddings(&config)
        config.queryKeyNorm = true
        config.extraNorms = .branchOutputs
        config.attentionScale = 1 / Float(try keys.double("query_pre_attn_scalar") ?? 256).squareRoot()
        config.attentionSoftcap = try keys.double("attn_logit_softcapping").map(Float.init)
        // Gemma3ForConditionalGeneration does not cap its logits; Gemma3ForCausalLM does.
        config.logitSoftcap = config.modelType == "gemma3" ? nil : try keys.double("final_logit_softcapping").map(Float.init)
        let sliding = try slidingLayers(config, keys)
        let window = keys.contains("sliding_window") ? try keys.int("sliding_window") : 4096
        config.layerWindows = sliding.map { $0 ? window : nil }
        let local: RopeParameters
        do {
            if keys.raw["rope_parameters"]?.objectValue?["sliding_attention"] != nil {
                local = try RopeParameters.resolve(
                    scaling: nil, parameters: keys.raw["rope_parameters"], topLevelTheta: 10_000, topLevelPartialFactor: nil,
                    maxPositionEmbeddings: config.maxPositionEmbeddings, layerType: "sliding_attention")
            } else {
                local = RopeParameters(ropeType: "default", ropeTheta: try keys.double("rope_local_base_freq") ?? 10_000)
            }
        } catch let error as EngineError {
            throw EngineError("\(keys.file): \(error.message)")
        }
        config.layerRopes = sliding.map { $0 ? local : config.rope }
    }

    /// Which layers slide: `layer_types`, else all but every `sliding_window_pattern`-th.
    static func slidingLayers(_ config: ModelConfig, _ keys: ConfigKeys) throws -> [Bool] {
        if let types = try config.windows(layerTypes: keys, window: 1) { return types.map { $0 != nil } }
        let pattern = try keys.int("sliding_window_pattern", minimum: 1) ?? keys.int("_sliding_window_pattern", minimum: 1) ?? 6
        return (0..<config.numHiddenLayers).map { ($0 + 1) % pattern != 0 }
    }

    public static func configKeys(gguf: GGUFKeys) throws -> [String: JSONValue] {
        let layers = try gguf.required("block_count")
        var keys: [String: JSONValue] = [
            "query_pre_attn_scalar": .double(try ggufQueryScalar(gguf, largeModelLayers: 62)),
            "rope_local_base_freq": .double(try gguf.double("rope.freq_base_swa") ?? 10_000),
        ]
        if let cap = try gguf.double("final_logit_softcapping") { keys["final_logit_softcapping"] = .double(cap) }
        // llama.cpp: every 6th layer global; no window in the file, no sliding layers at all.
        if let window = try gguf.int("attention.sliding_window") {
            keys["sliding_window"] = .int(window)
            keys["layer_types"] = .array((0..<layers).map { .string($0 % 6 < 5 ? "sliding_attention" : "full_attention") })
        } else {
            keys["layer_types"] = .array((0..<layers).map { _ in .string("full_attention") })
        }
        return keys
    }

    /// The query scale llama.cpp uses for a Gemma 2/3 file, which does not store it:
    /// 1/sqrt(head_dim), but hidden / heads for the model with `largeModelLayers` layers (27B).
    static func ggufQueryScalar(_ gguf: GGUFKeys, largeModelLayers: Int) throws -> Double {
        let heads = try gguf.required("attention.head_count")
        let hidden = try gguf.required("embedding_length")
        if try gguf.required("block_count") == largeModelLayers { return Double(hidden / max(heads, 1)) }
        return Double(try gguf.int("attention.key_length") ?? hidden / max(heads, 1))
    }

    public static func globalNames(_ source: any TensorSource) -> GlobalNames {
        guard source.format == .safetensors else { return Gemma.normsPlusOne(source, .gguf) }
        let prefix = textPrefix(source)
        return Gemma.normsPlusOne(
            source, .huggingFace(prefix: prefix, head: prefix == "model." ? "lm_head.weight" : "language_model.lm_head.weight"))
    }

    public static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        let prefix = source.format == .safetensors ? textPrefix(source) : ""
        return try Gemma.normsPlusOne(source, Gemma2.branchNormNames(index, source.format, prefix: prefix)).load(source, config)
    }

    /// Where the text model's tensors are: `model.` (Gemma3ForCausalLM), or the multimodal
    /// checkpoint's `language_model.model.` (as released and as transformers 5 saves it) or
    /// `model.language_model.` (5.x's names in memory).
    static func textPrefix(_ source: any TensorSource) -> String {
        ["language_model.model.", "model.language_model."].first { source.contains($0 + "embed_tokens.weight") } ?? "model."
    }
}
