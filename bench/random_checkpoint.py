"""Write a random Llama-shaped checkpoint as an HF folder (config.json + model.safetensors,
f32) and, optionally, the same weights as GGUF files for llama.cpp, written beside the folder
as OUT_DIR-f32.gguf etc.

    python bench/random_checkpoint.py 288x6x6x768 OUT_DIR [--gguf f32,f16,q8_0,q4_k_m] [--vocab 32000]

Shape is DIM x LAYERS x HEADS x FFN, optionally with key/value heads and vocabulary:
576x30x9x1536:kv3:v49152 (SmolLM2-135M's shape). Embeddings are tied (no lm_head / output
tensor), as in the benchmark shapes and the small models they stand for. Weights are
N(0, 0.02), norms 1, seeded, so every engine reads identical numbers. The GGUF files follow
convert_hf_to_gguf.py for llama: same tensor names, q/k rows permuted to GGUF's rotary
layout, and a dummy SentencePiece vocabulary (llama.cpp needs one to load a model; the
benchmarks feed token ids directly). f32, f16 and q8_0 are written by gguf-py; every other
kind (q4_0, q4_k_m, q5_k_m, q6_k, ...: llama.cpp's file types) is quantised from the f32 file
by llama.cpp's own quantiser (llama-cpp-python's llama_model_quantize), with its per-tensor
choices, as the files people download are made.
"""

import argparse
import json
import os

import numpy as np


class Shape:
    """DIMxLAYERSxHEADSxFFN[:kvKV][:vVOCAB]; key/value heads default to the heads."""

    def __init__(self, text, vocab=32000):
        main, *extras = text.lower().split(":")
        parts = [int(p) for p in main.split("x")]
        if len(parts) != 4:
            raise SystemExit(f"shape '{text}' is not DIMxLAYERSxHEADSxFFN[:kvKV][:vVOCAB]")
        self.dim, self.layers, self.heads, self.ffn = parts
        self.kv_heads, self.vocab = self.heads, vocab
        for extra in extras:
            if extra.startswith("kv"):
                self.kv_heads = int(extra[2:])
            elif extra.startswith("v"):
                self.vocab = int(extra[1:])
            else:
                raise SystemExit(f"shape '{text}': unknown part '{extra}' (kvN or vN)")
        if self.dim % self.heads or self.heads % self.kv_heads:
            raise SystemExit(f"shape '{text}': heads must divide DIM and be a multiple of the key/value heads")
        self.head_dim = self.dim // self.heads


def parse_shape(text):
    shape = Shape(text)
    return [shape.dim, shape.layers, shape.heads, shape.ffn]


# llama.cpp's file types that its quantiser writes (llama_ftype), by the names the benchmarks use.
LLAMA_CPP_FILE_TYPES = {"q4_0": 2, "q4_1": 3, "q5_0": 8, "q5_1": 9, "q2_k": 10, "q3_k_m": 12,
                        "q4_k_m": 15, "q5_k_m": 17, "q6_k": 18, "iq4_nl": 25, "iq4_xs": 30}


def make_weights(dim, layers, heads, ffn, vocab, seed=0, kv_heads=None):
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    tensors = {"model.embed_tokens.weight": normal(vocab, dim), "model.norm.weight": np.ones(dim, np.float32)}
    for i in range(layers):
        p = f"model.layers.{i}."
        tensors[p + "input_layernorm.weight"] = np.ones(dim, np.float32)
        tensors[p + "post_attention_layernorm.weight"] = np.ones(dim, np.float32)
        kv_dim = dim // heads * (kv_heads or heads)
        for name, rows in (("q_proj", dim), ("k_proj", kv_dim), ("v_proj", kv_dim), ("o_proj", dim)):
            tensors[p + f"self_attn.{name}.weight"] = normal(rows, dim)
        tensors[p + "mlp.gate_proj.weight"] = normal(ffn, dim)
        tensors[p + "mlp.up_proj.weight"] = normal(ffn, dim)
        tensors[p + "mlp.down_proj.weight"] = normal(dim, ffn)
    return tensors


def write_hf(folder, tensors, dim, layers, heads, ffn, vocab, context, kv_heads=None):
    from safetensors.numpy import save_file

    os.makedirs(folder, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab, "hidden_size": dim,
        "intermediate_size": ffn, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads or heads, "hidden_act": "silu", "max_position_embeddings": context,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True, "attention_bias": False,
        "mlp_bias": False, "torch_dtype": "float32", "bos_token_id": 1, "eos_token_id": 2,
    }
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_file(tensors, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})


def permute_rotary(w, heads):
    """HF's rotate-half q/k rows -> GGUF's interleaved pairs (convert_hf_to_gguf.py's permute)."""
    rows = w.shape[0]
    return w.reshape(heads, 2, rows // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(path, tensors, dim, layers, heads, ffn, vocab, context, kind, kv_heads=None):
    import gguf

    kv_heads = kv_heads or heads
    if kind in LLAMA_CPP_FILE_TYPES:
        source = path[: -len(f"-{kind}.gguf")] + "-f32.gguf"
        if not os.path.exists(source):
            write_gguf(source, tensors, dim, layers, heads, ffn, vocab, context, "f32", kv_heads)
        quantize_with_llama_cpp(source, path, kind)
        return

    q = gguf.GGMLQuantizationType
    file_type = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                 "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[kind]
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(os.path.basename(path))
    writer.add_context_length(context)
    writer.add_embedding_length(dim)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_rope_dimension_count(dim // heads)
    writer.add_vocab_size(vocab)
    writer.add_file_type(file_type)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581t{i}" for i in range(vocab - len(tokens))]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    types += [gguf.TokenType.NORMAL] * (vocab - len(types))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * vocab)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    def add(name, array):
        if array.ndim == 1 or kind == "f32":
            writer.add_tensor(name, array.astype(np.float32))
        elif kind == "f16":
            writer.add_tensor(name, array.astype(np.float16))
        else:
            writer.add_tensor(name, gguf.quants.quantize(array, q.Q8_0), raw_dtype=q.Q8_0)

    add("token_embd.weight", tensors["model.embed_tokens.weight"])
    add("output_norm.weight", tensors["model.norm.weight"])
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    for i in range(layers):
        for hf, gg in names.items():
            w = tensors[f"model.layers.{i}.{hf}.weight"]
            if hf == "self_attn.q_proj":
                w = permute_rotary(w, heads)
            elif hf == "self_attn.k_proj":
                w = permute_rotary(w, kv_heads)
            add(f"blk.{i}.{gg}.weight", w)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def quantize_with_llama_cpp(source, target, kind):
    """llama.cpp's own quantiser (llama-quantize) on the f32 file, with its per-tensor choices."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = LLAMA_CPP_FILE_TYPES[kind]
    params.nthread = os.cpu_count() or 1
    if llama_cpp.llama_model_quantize(source.encode(), target.encode(), params) != 0:
        raise SystemExit(f"llama.cpp could not quantise {source} to {kind}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shape")
    parser.add_argument("out")
    parser.add_argument("--gguf", default="", help="comma-separated: f32,f16,q8_0 or llama.cpp file types (q4_k_m, ...)")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--context", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    s = Shape(args.shape, args.vocab)
    tensors = make_weights(s.dim, s.layers, s.heads, s.ffn, s.vocab, args.seed, s.kv_heads)
    write_hf(args.out, tensors, s.dim, s.layers, s.heads, s.ffn, s.vocab, args.context, s.kv_heads)
    for kind in filter(None, args.gguf.split(",")):
        write_gguf(f"{args.out.rstrip('/')}-{kind}.gguf", tensors, s.dim, s.layers, s.heads, s.ffn, s.vocab,
                   args.context, kind, s.kv_heads)


if __name__ == "__main__":
    main()
