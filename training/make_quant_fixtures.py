#!/usr/bin/env python3
"""Builds the fixtures for the quantised GGUF types: files quantised by llama.cpp's own
quantiser, what gguf-py dequantises them to, and the logits transformers and llama.cpp
compute from them.

    /work/venv5/bin/python training/make_quant_fixtures.py   # rewrites Tests/EngineTests/Fixtures/quants/

Needs torch, transformers 5.x, gguf (gguf-py) and llama-cpp-python (its `llama_model_quantize`
is llama.cpp's `llama-quantize`).

The model: a random Llama (hidden 256, one layer, 2 heads of 128, 1 key/value head, FFN 256,
vocabulary 32, untied) whose every matrix has rows of 256 weights, so that every type
quantises every matrix (K-quants and IQ4_XS need 256-weight rows). Its weights are normal with
a scale per row and rare outliers; the embedding's first rows are the cases quantisers treat
specially (all zero, constant, negative, one outlier, tiny values, alternating signs, ...).
It is written as an f32 GGUF the way convert_hf_to_gguf.py writes a Llama (Q and K rows
permuted), then quantised by llama.cpp into each type:

  pure files (`pure`: every matrix in the one type, norms in F32): Q4_0, Q4_1, Q5_0, Q5_1,
  Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS
  the mixes people download (llama.cpp's own per-tensor choices): Q3_K_M, Q4_K_M, Q5_K_M

Written to Tests/EngineTests/Fixtures/quants/:
  NAME.gguf   the file llama.cpp wrote
  NAME.json   {"description", "file_type", "tokens": [int],
               "tensors": [{"name", "type" (GGML type name), "shape" (rows, columns),
                            "dequantized_fnv1a64": hex,   # FNV-1a 64 of gguf-py's dequantised
                                                          # f32 values, little-endian, row after row
                            "first_row": [float]}],       # gguf-py's first row, exactly
               "reference": [[float]],  # transformers (f32, eager) on the weights the file holds
                                        # (gguf-py dequantised, un-permuted)
               "original": [[float]],   # transformers on the f32 model
               "llama_cpp": [[float]]}  # llama.cpp on the file (f32 KV cache, 1 thread)
  source.bin  the f32 source of the rows the quantiser tests requantise, little-endian:
              token_embd.weight (32 x 256), then the first 8 rows of blk.0.ffn_down.weight
              (8 x 256). Quantising them must give the bytes llama.cpp wrote for those
              rows in each pure file (llama.cpp quantises without an importance matrix here).
"""

import json
import struct
import sys
import tempfile
from pathlib import Path

import gguf
import llama_cpp
import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_gguf_fixtures import gguf_name, permute, unpermute  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "EngineTests" / "Fixtures" / "quants"

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB = 256, 2, 1, 128, 256, 32
TOKENS = [0, 3, 7, 1, 12, 31, 5, 19, 2, 26, 9, 14]

PURE = {
    "Q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
    "Q4_1": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_1,
    "Q5_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_0,
    "Q5_1": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_1,
    "Q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
    "Q2_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q2_K,
    "Q3_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q3_K_S,   # pure: every matrix Q3_K
    "Q4_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_S,   # pure: every matrix Q4_K
    "Q5_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_S,   # pure: every matrix Q5_K
    "Q6_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q6_K,
    "IQ4_NL": llama_cpp.LLAMA_FTYPE_MOSTLY_IQ4_NL,
    "IQ4_XS": llama_cpp.LLAMA_FTYPE_MOSTLY_IQ4_XS,
}
MIXES = {
    "Q3_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q3_K_M,
    "Q4_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
    "Q5_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_M,
}


def special_rows(generator: torch.Generator) -> torch.Tensor:
    """Rows that quantisers treat as special cases, then ordinary rows at many scales."""
    n = HIDDEN
    rows = [
        torch.zeros(n),                                            # all zero: scale 0
        torch.full((n,), 0.5),                                     # constant
        torch.full((n,), -0.25),                                   # constant negative: max by |x| is negative
        torch.cat([torch.tensor([9.0]), torch.randn(n - 1, generator=generator) * 0.01]),  # one outlier
        torch.randn(n, generator=generator) * 1e-7,                # tiny
        torch.tensor([(-1.0) ** i * 0.3 for i in range(n)]),       # alternating signs
        torch.rand(n, generator=generator),                        # all positive
        -torch.rand(n, generator=generator),                       # all negative
        torch.randn(n, generator=generator).round(),               # small integers
        torch.cat([torch.zeros(n // 2), torch.randn(n // 2, generator=generator)]),  # half zero blocks
    ]
    rows += [torch.randn(n, generator=generator) * 10.0 ** (i % 7 - 4) for i in range(VOCAB - len(rows))]
    return torch.stack(rows)


def random_matrix(shape, generator: torch.Generator) -> torch.Tensor:
    """Normal weights, a scale per row, and rare outliers (as trained weights have)."""
    scale = torch.exp(torch.randn(shape[0], 1, generator=generator) * 0.5) * 0.05
    weights = torch.randn(shape, generator=generator) * scale
    outliers = torch.rand(shape, generator=generator) < 0.002
    return torch.where(outliers, weights * 20, weights)


def build_model() -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=1,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM,
        max_position_embeddings=64, rms_norm_eps=1e-5, tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    model = LlamaForCausalLM(config).eval()
    generator = torch.Generator().manual_seed(20261208)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name == "model.embed_tokens.weight":
                tensor.copy_(special_rows(generator))
            elif tensor.ndim == 2:
                tensor.copy_(random_matrix(tensor.shape, generator))
            else:
                tensor.copy_(1 + torch.randn(tensor.shape, generator=generator) * 0.1)
    return model


def write_f32(model: LlamaForCausalLM, path: Path) -> None:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("quant-fixture")
    writer.add_context_length(64)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(1)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_key_length(HEAD_DIM)
    writer.add_value_length(HEAD_DIM)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(VOCAB)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("no_vocab")
    for hf_name, tensor in model.state_dict().items():
        data = tensor.numpy().astype(np.float32)
        if hf_name.endswith("q_proj.weight"):
            data = permute(data, HEADS, HEADS)
        elif hf_name.endswith("k_proj.weight"):
            data = permute(data, HEADS, KV_HEADS)
        writer.add_tensor(gguf_name(hf_name), data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def quantize(source: Path, target: Path, ftype: int, pure: bool) -> None:
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.pure = pure
    params.nthread = 1
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params) != 0:
        raise RuntimeError(f"llama_model_quantize failed for {target.name}")


def fnv1a64(data: bytes) -> str:
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def dequantized(tensor) -> np.ndarray:
    values = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
    rows = int(np.prod(tensor.shape[1:])) if len(tensor.shape) > 1 else 1
    return np.asarray(values, dtype=np.float32).reshape(rows, int(tensor.shape[0]))


def logits(model: LlamaForCausalLM, state: dict | None = None) -> torch.Tensor:
    if state is not None:
        model.load_state_dict(state)
    with torch.no_grad():
        return model(torch.tensor([TOKENS])).logits[0]


def llama_cpp_logits(path: Path) -> np.ndarray:
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=64, logits_all=True, verbose=False, n_threads=1,
                          type_k=0, type_v=0)
    llm.eval(TOKENS)
    return np.array(llm.scores[: len(TOKENS)])


def rounded(matrix) -> list:
    return [[round(float(v), 6) for v in row] for row in matrix]


def describe(name: str, model: LlamaForCausalLM, original: torch.Tensor, path: Path, file_type: str) -> None:
    reader = gguf.GGUFReader(str(path))
    by_gguf_name = {gguf_name(hf): hf for hf in model.state_dict()}
    tensors, held = [], {}
    for tensor in reader.tensors:
        values = dequantized(tensor)
        tensors.append({
            "name": tensor.name, "type": tensor.tensor_type.name, "shape": [int(values.shape[0]), int(values.shape[1])],
            "dequantized_fnv1a64": fnv1a64(values.astype("<f4").tobytes()),
            "first_row": [float(v) for v in values[0]],
        })
        hf_name = by_gguf_name[tensor.name]
        if hf_name.endswith("q_proj.weight"):
            values = unpermute(values, HEADS)
        elif hf_name.endswith("k_proj.weight"):
            values = unpermute(values, KV_HEADS)
        shape = model.state_dict()[hf_name].shape
        held[hf_name] = torch.from_numpy(np.ascontiguousarray(values.reshape(shape)))
    reference = logits(model, held)
    cpp = llama_cpp_logits(path)
    types = sorted({t["type"] for t in tensors})
    result = {
        "description": f"{name}: llama.cpp's llama_model_quantize ({'pure' if name in PURE else 'its own per-tensor mix'}) "
                       f"of a random 1-layer Llama with 256-wide rows; types {', '.join(types)}",
        "file_type": file_type,
        "tokens": TOKENS,
        "tensors": tensors,
        "reference": rounded(reference),
        "original": rounded(original),
        "llama_cpp": rounded(cpp),
    }
    (OUT / f"{name}.json").write_text(json.dumps(result) + "\n")
    worst_cpp = float(np.abs(cpp - reference.numpy()).max())
    worst_quant = float((reference - original).abs().max())
    print(f"{name}: {path.stat().st_size} bytes, types {types}; max |HF(held) - HF(f32)| {worst_quant:.4f}, "
          f"max |llama.cpp - HF(held)| {worst_cpp:.4f}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    model = build_model()
    original = logits(model)
    f32_state = {k: v.clone() for k, v in model.state_dict().items()}
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "f32.gguf"
        write_f32(model, source)
        reader = gguf.GGUFReader(str(source))
        by_name = {t.name: np.asarray(t.data, dtype=np.float32).reshape(-1, HIDDEN) for t in reader.tensors}
        rows = np.concatenate([by_name["token_embd.weight"], by_name["blk.0.ffn_down.weight"][:8]])
        (OUT / "source.bin").write_bytes(rows.astype("<f4").tobytes())
        for name, ftype in list(PURE.items()) + list(MIXES.items()):
            path = OUT / f"{name}.gguf"
            quantize(source, path, ftype, pure=name in PURE)
            model.load_state_dict(f32_state)
            describe(name, model, original, path, name)


if __name__ == "__main__":
    main()
