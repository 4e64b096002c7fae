#!/usr/bin/env python3
"""Builds the GGUF fixtures the Swift engine is tested against.

The GGUF files are written the way llama.cpp's convert_hf_to_gguf.py writes a Llama
checkpoint: the `gguf` package's GGUFWriter, llama.cpp tensor names, dimensions fastest
first, Q and K rows permuted into llama.cpp's rope layout, 1-D tensors kept in F32,
matrices in F32 / F16 / BF16 / Q8_0 / Q4_0 (quantised with gguf-py's own reference quantizers).
The source checkpoints are the HF fixtures in Tests/EngineTests/Fixtures/models.

    python training/make_gguf_fixtures.py     # rewrites Tests/EngineTests/Fixtures/gguf/
                                              # (with make_family_gguf_fixtures.py's files)

Needs torch, transformers 5.x, tokenizers, gguf and sentencepiece (CPU is fine).

For every model file NAME.gguf there is NAME.json:
    {"description": str, "source": fixture folder, "type": "F32" | "F16" | "BF16" | "Q8_0" | "Q4_0",
     "tokens": [int, ...],
     "reference": [[float, ...], ...],   # HF transformers (f32, eager) with exactly the
                                         # weights the file holds: GGUF dequantised and
                                         # un-permuted in Python, loaded into the HF model
     "original": [[float, ...], ...],    # HF transformers on the source checkpoint
     "quantization_error": float,        # max |reference - original|, measured here
     "llama_cpp": [[float, ...], ...]}   # llama.cpp (llama-cpp-python) on the same file, when
                                         # installed; for F32 files it must agree with HF.

Tokenizer files (vocab-only GGUFs, as llama.cpp's models/ggml-vocab-*.gguf):
  tokenizer-NAME.gguf from the HF tokenizer.json fixtures (byte-level BPE, model "gpt2",
  with the tokenizer.ggml.pre that convert_hf_to_gguf.py gives that family), and
  tokenizer-spm.gguf from a small SentencePiece BPE model trained here (model "llama":
  tokens, scores, token types, as convert_hf_to_gguf.py's _set_vocab_sentencepiece).
  tokenizer-NAME.json: {"cases": [{"text": str, "ids": [int], "with_special": [int],
  "expressible": bool}]} with ids from HF tokenizers (expressible is false where the text holds
  an added token whose lstrip/rstrip/single_word flags GGUF cannot store) (for spm: transformers' LlamaTokenizerFast converted from the
  SentencePiece model, the way HF users load Llama 2).
"""

import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import gguf
import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "Tests" / "EngineTests" / "Fixtures" / "models"
TOKENIZERS = ROOT / "Tests" / "EngineTests" / "Fixtures" / "tokenizers"
OUT = ROOT / "Tests" / "EngineTests" / "Fixtures" / "gguf"

QTYPES = {
    "F32": gguf.GGMLQuantizationType.F32,
    "F16": gguf.GGMLQuantizationType.F16,
    "BF16": gguf.GGMLQuantizationType.BF16,
    "Q8_0": gguf.GGMLQuantizationType.Q8_0,
    "Q4_0": gguf.GGMLQuantizationType.Q4_0,
}
FILE_TYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7, "BF16": 32}  # llama_ftype


def permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.permute: rotary pairs made adjacent per head."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def unpermute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """The inverse of `permute` (n_head already resolved)."""
    return (weights.reshape(n_head, weights.shape[0] // n_head // 2, 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


HF_TO_GGUF = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}


def gguf_name(hf_name: str) -> str:
    if hf_name in HF_TO_GGUF:
        return HF_TO_GGUF[hf_name]
    parts = hf_name.split(".")  # model.layers.N.<module...>.weight|bias
    layer, module = parts[2], ".".join(parts[3:-1])
    return f"blk.{layer}.{LAYER_NAMES[module]}.{parts[-1]}"


def add_byte_level_vocab(writer: gguf.GGUFWriter, tokenizer_json: Path, pre: str, vocab_size: int | None = None):
    """convert_hf_to_gguf.py get_vocab_base + SpecialVocab(load_merges=True)."""
    data = json.loads(tokenizer_json.read_text())
    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    reverse = {i: t for t, i in vocab.items()}
    added = {a["id"]: a for a in data["added_tokens"]}
    size = vocab_size or (max(reverse) + 1)
    tokens, types = [], []
    for i in range(size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.CONTROL if added[i]["special"] else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    template = (data.get("post_processor") or {})
    steps = template.get("processors", [template])
    bos = None
    for step in steps:
        if step.get("type") == "TemplateProcessing":
            first = step["single"][0]
            if "SpecialToken" in first:
                bos = vocab[first["SpecialToken"]["id"]]
    if bos is not None:
        writer.add_bos_token_id(bos)
    writer.add_add_bos_token(bos is not None)
    for name in ["<|end_of_text|>", "<|endoftext|>", "</s>"]:
        if name in vocab:
            writer.add_eos_token_id(vocab[name])
            break


def write_model(source: str, qtype_name: str, description: str, tokenizer_pre: str | None = None) -> None:
    folder = MODELS / source
    config = json.loads((folder / "config.json").read_text())
    expected = json.loads((folder / "expected.json").read_text())
    tokens = expected["tokens"]
    qtype = QTYPES[qtype_name]
    architecture = "qwen2" if config["model_type"] == "qwen2" else "llama"
    overrides = {}
    if architecture == "qwen2":
        # GGUF has no sliding window for qwen2 (llama.cpp attends fully): so does the reference.
        overrides = {"use_sliding_window": False, "layer_types": ["full_attention"] * config["num_hidden_layers"]}
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager", **overrides)
    model.eval()
    heads, kv_heads = config["num_attention_heads"], config.get("num_key_value_heads") or config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads

    name = f"{source}-{qtype_name.lower().replace('_', '')}"
    path = OUT / f"{name}.gguf"
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_name(name)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base((config.get("rope_parameters") or {}).get("rope_theta") or config.get("rope_theta") or 10000.0)
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_dimension_count(head_dim)
    if head_dim != config["hidden_size"] // heads:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(FILE_TYPES[qtype_name])
    rope = config.get("rope_parameters") or {}
    if rope.get("rope_type") == "llama3":
        # convert_hf_to_gguf.py LlamaModel.generate_extra_tensors: Llama 3 scaling as factors.
        base = rope.get("rope_theta", 10000.0)
        freqs = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        factor, low, high = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
        old_context = rope["original_max_position_embeddings"]
        factors = []
        for freq in freqs.tolist():
            wavelength = 2 * math.pi / freq
            if wavelength < old_context / high:
                factors.append(1.0)
            elif wavelength > old_context / low:
                factors.append(factor)
            else:
                smooth = (old_context / wavelength - low) / (high - low)
                factors.append(1 / ((1 - smooth) / factor + smooth))
        writer.add_tensor("rope_freqs.weight", np.array(factors, dtype=np.float32))
    if tokenizer_pre is not None:
        add_byte_level_vocab(writer, folder / "tokenizer.json", tokenizer_pre, config["vocab_size"])
    else:
        # No tokenizer: llama.cpp's name for a model without one, so llama.cpp loads it too.
        writer.add_tokenizer_model("no_vocab")

    # What the file holds, read back as HF weights: the "reference" model's state.
    held: dict[str, torch.Tensor] = {}
    state = model.state_dict()
    for hf_name, tensor in state.items():
        if hf_name == "lm_head.weight" and config.get("tie_word_embeddings"):
            continue
        data = tensor.numpy().astype(np.float32)
        if architecture != "llama":
            n = None  # only convert_hf_to_gguf.py's LlamaModel permutes Q and K
        elif hf_name.endswith("q_proj.weight"):
            data, n = permute(data, heads, heads), heads
        elif hf_name.endswith("k_proj.weight"):
            data, n = permute(data, heads, kv_heads), kv_heads
        else:
            n = None
        if data.ndim == 1:
            # llama.cpp keeps norms (1-D tensors) in F32 whatever the file type.
            writer.add_tensor(gguf_name(hf_name), data)
            stored = data
        elif qtype_name == "F32":
            writer.add_tensor(gguf_name(hf_name), data)
            stored = data
        elif qtype_name == "F16":
            half = data.astype(np.float16)
            writer.add_tensor(gguf_name(hf_name), half)
            stored = half.astype(np.float32)
        else:
            quantized = gguf.quants.quantize(data, qtype)
            writer.add_tensor(gguf_name(hf_name), quantized, raw_dtype=qtype)
            stored = gguf.quants.dequantize(quantized, qtype).reshape(data.shape).astype(np.float32)
        if n is not None:
            stored = unpermute(stored, n)
        held[hf_name] = torch.from_numpy(np.ascontiguousarray(stored))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    with torch.no_grad():
        original = model(torch.tensor([tokens])).logits[0]
        if config.get("tie_word_embeddings"):
            held["lm_head.weight"] = held["model.embed_tokens.weight"]
        model.load_state_dict(held)
        reference = model(torch.tensor([tokens])).logits[0]
    error = float((reference - original).abs().max())
    cpp = llama_cpp_logits(path, tokens)
    result = {
        "description": description,
        "source": source,
        "type": qtype_name,
        "tokens": tokens,
        "reference": [[round(float(v), 6) for v in row] for row in reference],
        "original": [[round(float(v), 6) for v in row] for row in original],
        "quantization_error": round(error, 6),
    }
    if cpp is not None:
        result["llama_cpp"] = [[round(float(v), 6) for v in row] for row in cpp]
    (OUT / f"{name}.json").write_text(json.dumps(result) + "\n")
    print(f"{path.name}: {path.stat().st_size} bytes, max |reference - original| = {error:.6f}")


def llama_cpp_logits(path: Path, tokens: list[int]):
    """llama.cpp's logits for the same file (llama-cpp-python, f32 KV cache), when installed."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    model = Llama(model_path=str(path), n_ctx=64, logits_all=True, verbose=False, n_threads=1, type_k=0, type_v=0)
    model.eval(tokens)
    return np.array(model.scores[: len(tokens)])


def case_texts(fixture: str) -> list[str]:
    cases = json.loads((TOKENIZERS / fixture / "expected.json").read_text())["cases"]
    return [c["text"] for c in cases]


def write_tokenizer_byte_level(fixture: str, pre: str) -> None:
    path = OUT / f"tokenizer-{fixture}.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    add_byte_level_vocab(writer, TOKENIZERS / fixture / "tokenizer.json", pre)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    hf = Tokenizer.from_file(str(TOKENIZERS / fixture / "tokenizer.json"))
    # GGUF cannot store an added token's lstrip / rstrip / single_word flags (convert_hf_to_gguf.py
    # drops them), so texts containing such a token are marked and not compared.
    data = json.loads((TOKENIZERS / fixture / "tokenizer.json").read_text())
    flagged = [a["content"] for a in data["added_tokens"] if a["lstrip"] or a["rstrip"] or a["single_word"]]
    cases = [{"text": t, "ids": hf.encode(t, add_special_tokens=False).ids,
              "with_special": hf.encode(t, add_special_tokens=True).ids,
              "expressible": not any(token in t for token in flagged)} for t in case_texts(fixture)]
    (OUT / f"tokenizer-{fixture}.json").write_text(json.dumps({"pre": pre, "cases": cases}, ensure_ascii=False) + "\n")
    print(f"{path.name}: {path.stat().st_size} bytes, {len(cases)} cases")


SPM_TRAINING_TEXT = """The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Sphinx of black quartz, judge my vow! How vexingly quick daft zebras jump.
It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity.
Numbers like 12345 and 3.14159 appear too; so do tabs\tand  double  spaces.
Café, naïve, résumé, façade. 東京 is a city. Emoji: 🙂🚀.
"""


def write_tokenizer_spm() -> None:
    import sentencepiece as spm
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as scratch:
        text_file = Path(scratch) / "text.txt"
        text_file.write_text(SPM_TRAINING_TEXT * 20)
        prefix = str(Path(scratch) / "spm")
        # identity normalization, whitespace kept: what SentencePiece sees equals HF's legacy
        # Llama normalizer (prepend "▁", spaces to "▁"), so both references can be compared.
        spm.SentencePieceTrainer.train(
            input=str(text_file), model_prefix=prefix, vocab_size=400, model_type="bpe",
            byte_fallback=True, character_coverage=1.0, split_digits=True, allow_whitespace_only_pieces=True,
            remove_extra_whitespaces=False, normalization_rule_name="identity", minloglevel=2)
        processor = spm.SentencePieceProcessor(model_file=prefix + ".model")
        # convert_hf_to_gguf.py _set_vocab_sentencepiece: pieces, scores and types by id.
        tokens, scores, types = [], [], []
        for i in range(processor.vocab_size()):
            tokens.append(processor.id_to_piece(i))
            scores.append(processor.get_score(i))
            if processor.is_unknown(i):
                types.append(gguf.TokenType.UNKNOWN)
            elif processor.is_control(i):
                types.append(gguf.TokenType.CONTROL)
            elif processor.is_unused(i):
                types.append(gguf.TokenType.UNUSED)
            elif processor.is_byte(i):
                types.append(gguf.TokenType.BYTE)
            else:
                types.append(gguf.TokenType.NORMAL)
        path = OUT / "tokenizer-spm.gguf"
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_tokenizer_model("llama")
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        writer.add_bos_token_id(processor.bos_id())
        writer.add_eos_token_id(processor.eos_id())
        writer.add_unk_token_id(processor.unk_id())
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        writer.add_add_space_prefix(True)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

        # HF's Llama tokenizer built from the SentencePiece model (transformers converts it to
        # a tokenizers BPE with merges from the scores), as for a Llama 2 checkpoint.
        hf_folder = Path(scratch) / "hf"
        hf_folder.mkdir()
        shutil.copy(prefix + ".model", hf_folder / "tokenizer.model")
        (hf_folder / "tokenizer_config.json").write_text(json.dumps(
            {"tokenizer_class": "LlamaTokenizer", "legacy": True, "add_bos_token": True, "add_eos_token": False}))
        hf = AutoTokenizer.from_pretrained(hf_folder)
        texts = case_texts("llama2")
        cases = []
        for t in texts:
            ids = hf.encode(t, add_special_tokens=False)
            cases.append({"text": t, "ids": ids, "with_special": hf.encode(t, add_special_tokens=True), "expressible": True,
                          "sentencepiece": processor.encode(t)})
        differ = sum(c["ids"] != c["sentencepiece"] for c in cases)
        (OUT / "tokenizer-spm.json").write_text(json.dumps({"cases": cases}, ensure_ascii=False) + "\n")
        print(f"{path.name}: {path.stat().st_size} bytes, {len(cases)} cases, {differ} differ from sentencepiece")


def main() -> None:
    if sys.argv[1:] == ["spm"]:
        write_tokenizer_spm()
        return
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    for qtype in ["F32", "F16", "BF16", "Q8_0", "Q4_0"]:
        write_model("llama2", qtype, f"Llama (MHA 4 heads, untied head) as llama.cpp writes it, {qtype}")
    write_model("qwen2", "Q8_0", "Qwen2 (q/k/v biases, GQA 4/2, tied, no Q/K permutation), full attention, Q8_0")
    write_model("llama3", "F32", "Llama 3 rope scaling as rope_freqs factors, head_dim 12 (key_length), GQA 4/2, tied")
    write_model("llama3-tokenizer", "F32",
                "Llama 3 style (GQA 4/2, tied head) with its byte-level tokenizer in the metadata (pre llama-bpe)",
                tokenizer_pre="llama-bpe")
    write_tokenizer_byte_level("gpt2", "gpt2")
    write_tokenizer_byte_level("llama3", "llama-bpe")
    write_tokenizer_byte_level("qwen2", "qwen2")
    write_tokenizer_spm()
    # The other families (Qwen3, Gemma 1-3, Phi-3) live in their own script; the folder was
    # just emptied, so write them too.
    from make_family_gguf_fixtures import write_families
    write_families()


if __name__ == "__main__":
    sys.exit(main())
