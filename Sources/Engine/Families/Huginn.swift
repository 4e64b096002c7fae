import Foundation

/// Huginn-0125 (`huginn_raven`, seal-rg/recurrent-pretraining's `RavenForCausalLM`), the
/// released recurrent-depth checkpoints, in their own layout, running as the `recurrent`
/// architecture: `transformer.prelude.{i}`, `transformer.core_block.{j}` (looped) and
/// `transformer.coda.{i}` become stored layers 0..<P, P..<P+C and P+C..<P+C+D, and
/// `transformer.adapter` the injection [state, embedding] -> state.
///
/// Their sandwich block normalises after each residual add (norm_2, norm_4) as well as
/// before each branch (norm_1, norm_3); `Wqkv` holds q, k, v rows, `qk_bias` a bias for q and
/// k added before rope; `fc` holds gate then up rows; embeddings are scaled by sqrt(n_embd);
/// `ln_f` normalises the state before the coda as well as after it; the head is tied. Their
/// rope rotates adjacent pairs, so q and k rows (and biases) are put in HF's half-split order
/// while loading. Their random initial state (a truncated normal, std sqrt(2/5) per element)
/// is drawn here by depthscope's own generator with that std (`state_init_std`; 0 gives the
/// zero state their deterministic path uses).
public enum Huginn: ModelFamily {
    public static let modelTypes = ["huginn_raven"]
    public static let ggufArchitectures: [String] = []

    public static var defaults: FamilyDefaults {
        var defaults = FamilyDefaults()
        defaults.bos = 65504
        defaults.eos = [65505, 65508]
        return defaults
    }

    /// The parts of RavenConfig the engine runs; anything else is another architecture.
    static let required: [String: String] = [
        "block_class_name": "SandwichBlock", "norm_class_name": "RMSNorm_llama", "mlp_class_name": "GatedMLP",
        "nonlin_name": "SiLU", "injection_type": "linear",
    ]

    public static func standardKeys(_ keys: ConfigKeys) throws -> [String: JSONValue] {
        for (key, value) in required.sorted(by: { $0.key < $1.key }) {
            let given = try keys.string(key) ?? value
            guard given == value else { throw keys.error(key, "'\(given)' is not supported (\(value))") }
        }
        if try keys.bool("bias") == true { throw keys.error("bias", "an adapter bias is not supported") }
        if let noise = try keys.double("test_time_noise"), noise != 0 {
            throw keys.error("test_time_noise", "\(noise): noise injected per loop is not supported (0)")
        }
        let hidden = try keys.requiredInt("n_embd")
        let heads = try keys.requiredInt("n_heads")
        let prelude = try keys.requiredInt("n_layers_in_prelude")
        let core = try keys.requiredInt("n_layers_in_recurrent_block")
        let coda = try keys.requiredInt("n_layers_in_coda")
        let mean = try keys.int("mean_recurrence", minimum: 1) ?? 32
        var raw = keys.raw
        raw["hidden_size"] = .int(hidden)
        raw["num_attention_heads"] = .int(heads)
        raw["num_key_value_heads"] = .int(try keys.int("num_key_value_heads") ?? heads)
        raw["head_dim"] = .int(heads > 0 ? hidden / heads : 0)
        raw["num_hidden_layers"] = .int(prelude + core + coda)
        raw["vocab_size"] = .int(try keys.int("vocab_size") ?? keys.requiredInt("padded_vocab_size"))
        raw["max_position_embeddings"] = .int(try keys.int("block_size") ?? 4096)
        raw["rms_norm_eps"] = .double(try keys.double("norm_eps") ?? 1e-6)
        raw["rope_theta"] = .double(try keys.double("rope_base") ?? 50_000)
        raw["tie_word_embeddings"] = .bool(try keys.bool("tie_embeddings") ?? true)
        raw["hidden_act"] = .string("silu")
        raw["recurrent_depth"] = .object([
            "n_layers_in_prelude": .int(prelude), "n_layers_in_recurrent_block": .int(core),
            "n_layers_in_coda": .int(coda), "mean_recurrence": .int(mean), "max_recurrence": .int(max(64, 2 * mean)),
            "state_init_std": .double((2.0 / 5.0).squareRoot()),
        ])
        return raw
    }

    public static func configure(_ config: inout ModelConfig, _ keys: ConfigKeys) throws {
        guard config.numKeyValueHeads == config.numAttentionHeads else {
            throw keys.error("num_key_value_heads", "must equal n_heads (qk_bias is one per query head)")
        }
        config.extraNorms = .afterResiduals
        config.embeddingScale = Float(Double(config.hiddenSize).squareRoot())
        config.normBeforeCoda = true
        config.qkvBias = try keys.bool("qk_bias") ?? true
        config.outputBias = false
        config.feedForwardBias = false
    }

    public static func globalNames(_ source: any TensorSource) -> GlobalNames {
        GlobalNames(embedding: "transformer.wte.weight", finalNorm: "transformer.ln_f.weight", head: "lm_head.weight")
    }

    public static func depthTensorName(_ name: String) -> String {
        name == "model.adapter.weight" ? "transformer.adapter.weight" : name
    }

    public static func loadLayer(_ index: Int, _ source: any TensorSource, _ config: ModelConfig) throws -> LayerTensors {
        guard let depth = config.raw["recurrent_depth"], let prelude = depth["n_layers_in_prelude"]?.intValue,
            let core = depth["n_layers_in_recurrent_block"]?.intValue
        else { throw EngineError("internal: Huginn config without its layer counts") }
        let p: String
        if index < prelude {
            p = "transformer.prelude.\(index)."
        } else if index < prelude + core {
            p = "transformer.core_block.\(index - prelude)."
        } else {
            p = "transformer.coda.\(index - prelude - core)."
        }
        let d = config.hiddenSize, q = config.queryDim, kv = config.kvDim, ffn = config.intermediateSize
        let rope = RowOrder.halfSplitFromInterleaved(headSize: config.headDim)
        let qkv = p + "attn.Wqkv.weight", fused = q + 2 * kv
        var tensors = LayerTensors()
        tensors[.query] = try source.matrix(qkv, storedRows: fused, columns: d, rows: 0..<q, order: rope)
        tensors[.key] = try source.matrix(qkv, storedRows: fused, columns: d, rows: q..<(q + kv), order: rope)
        tensors[.value] = try source.matrix(qkv, storedRows: fused, columns: d, rows: (q + kv)..<fused, order: nil)
        tensors[.output] = try source.matrix(p + "attn.proj.weight", rows: d, columns: q)
        tensors[.gate] = try source.matrix(p + "mlp.fc.weight", storedRows: 2 * ffn, columns: d, rows: 0..<ffn, order: nil)
        tensors[.up] = try source.matrix(p + "mlp.fc.weight", storedRows: 2 * ffn, columns: d, rows: ffn..<(2 * ffn), order: nil)
        tensors[.down] = try source.matrix(p + "mlp.proj.weight", rows: d, columns: ffn)
        if config.qkvBias {
            let shape = [2, 1, config.numAttentionHeads, config.headDim]
            tensors[.queryBias] = try source.vector(p + "attn.qk_bias", shape: shape, elements: 0..<q, order: rope, adding: 0)
            tensors[.keyBias] = try source.vector(p + "attn.qk_bias", shape: shape, elements: q..<(2 * q), order: rope, adding: 0)
        }
        tensors[.inputNorm] = try source.vector(p + "norm_1.weight", count: d)
        tensors[.attentionOutputNorm] = try source.vector(p + "norm_2.weight", count: d)
        tensors[.feedForwardNorm] = try source.vector(p + "norm_3.weight", count: d)
        tensors[.feedForwardOutputNorm] = try source.vector(p + "norm_4.weight", count: d)
        return tensors
    }
}
