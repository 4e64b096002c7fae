#!/usr/bin/env python3
"""Builds GGUF files of the model families beyond Llama, written the way llama.cpp's
convert_hf_to_gguf.py writes each one (its Qwen3Model, GemmaModel, Gemma2Model, Gemma3Model
and Phi3MiniModel classes), from the checkpoints make_family_fixtures.py made.

    python training/make_family_gguf_fixtures.py   # (re)writes its files in Tests/EngineTests/Fixtures/gguf/

What the converter does per family, and what it leaves out of the file (which llama.cpp then
derives): the family spec, families.md, in the project notes. In short:
  * tensor names from gguf-py's own HF-to-GGUF map (the converter's); no Q/K permutation
    (these families use NEOX rope); lm_head dropped when tied (Gemma 1/2: always dropped);
  * Gemma norms stored as weight + 1 (every tensor whose name ends in "norm.weight", the Gemma 3
    q/k norms included), so llama.cpp multiplies by the stored value;
  * Phi-3 keeps its fused attn_qkv (Q rows, then K, then V) and ffn_up (gate rows, then up);
    LongRoPE adds rope_factors_long/short.weight and rope.scaling.attn_factor;
  * 1-D tensors and *_norm.weight stay F32 whatever the file type.

NAME.json is the format of make_gguf_fixtures.py: "reference" is HF transformers (f32, eager)
on exactly the weights the file holds, with the config llama.cpp reads out of the file (where
llama.cpp ignores or derives something differently from HF, the HF config is overridden the
same way in "reference" and "original", see OVERRIDES); "llama_cpp" is llama-cpp-python on the
file, and for F32 files it must agree with "reference".
"""

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import gguf
import numpy as np
import torch
from transformers import AutoModelForCausalLM

from make_gguf_fixtures import FILE_TYPES, MODELS, OUT, QTYPES, llama_cpp_logits

# F32 files: llama.cpp and HF compute the same thing in float32 in a different order...
F32_AGREEMENT = 1e-4
# ...except GELU: llama.cpp's CPU GELU rounds its input to f16 and reads an f16 table
# (ggml-cpu/vec.h, GGML_GELU_FP16), which moves these logits by ~1e-3. For the Gemma files the
# bound is wider, and HF with that same f16 GELU must agree more closely (not to 1e-4: where an
# activation sits on an f16 rounding boundary, a last-bit difference upstream flips its rounding).
F32_AGREEMENT_F16_GELU = 5e-3
F32_AGREEMENT_EMULATED_GELU = 1e-3


class GeluThroughF16Table(torch.nn.Module):
    """llama.cpp's CPU GELU: tanh GELU of the input rounded to f16, the result rounded to f16,
    exact beyond |x| >= 10."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        table = torch.nn.functional.gelu(x.half().float(), approximate="tanh").half().float()
        return torch.where(x <= -10, torch.zeros_like(x), torch.where(x >= 10, x, table))


@dataclass
class Family:
    name: str                 # file stem: NAME-f32.gguf, NAME-q80.gguf
    source: str               # fixture folder in Fixtures/models
    architecture: str         # general.architecture (gguf.MODEL_ARCH name, lower case)
    description: str
    overrides: dict = field(default_factory=dict)   # HF config as llama.cpp runs the file


FAMILIES = [
    Family("qwen3", "qwen3", "qwen3",
           "Qwen3 as llama.cpp writes it: attn_q_norm/attn_k_norm, key_length 8 != 32/8, GQA 8/2, "
           "tied (no output.weight)"),
    Family("gemma", "gemma", "gemma",
           "Gemma as llama.cpp writes it: norms stored +1, no output.weight, key_length 16, MQA 4/1, "
           "no rope_freq_base (10000)"),
    # llama.cpp scales queries by 1/sqrt(key_length) unless the model has 46 layers (27B:
    # 1/sqrt(n_embd/n_head)); GGUF has no query_pre_attn_scalar.
    Family("gemma2", "gemma2", "gemma2",
           "Gemma 2 as llama.cpp writes it: norms +1, soft-caps 5/10, sliding_window 4 on even layers, "
           "query scale 1/sqrt(key_length 16) (query_pre_attn_scalar is not stored)",
           overrides={"query_pre_attn_scalar": 16}),
    Family("gemma3", "gemma3_text", "gemma3",
           "Gemma 3 as llama.cpp writes it: norms and q/k norms +1, freq_base 1e6 with linear x8 on global layers, "
           "freq_base_swa 1e4, sliding_window 4 (pattern not stored: every 6th layer global), query scale "
           "1/sqrt(key_length 16)",
           overrides={"query_pre_attn_scalar": 16}),
    # llama.cpp turns Phi-3's sliding window off (llama_model_phi3::load_arch_hparams).
    Family("phi3", "phi3", "phi3",
           "Phi-3 as llama.cpp writes it: fused attn_qkv and ffn_up (gate then up), sliding_window 5 stored "
           "but ignored by llama.cpp (full attention)",
           overrides={"sliding_window": None}),
    Family("phi3-longrope", "phi3-longrope", "phi3",
           "Phi-3 LongRoPE as llama.cpp writes it: rope_factors_long/short.weight, rope.scaling.attn_factor, "
           "original_context_length 8 (llama.cpp picks the long factors: context > 8)"),
    Family("phi3-partial", "phi3-partial", "phi3",
           "Phi-3 with partial rotary 0.75 as llama.cpp writes it: rope.dimension_count 12 of key 16, LongRoPE "
           "short factors (llama.cpp's context of 256 <= original_context_length 256), tied"),
]


def gemma_like(family: Family) -> bool:
    return family.architecture.startswith("gemma")


def write_metadata(writer: gguf.GGUFWriter, family: Family, config: dict) -> None:
    """The keys each converter class's set_gguf_parameters writes (tokenizer aside)."""
    text = {**config, **config.get("text_config", {})}
    heads = text["num_attention_heads"]
    kv_heads = text.get("num_key_value_heads") or heads
    writer.add_block_count(text["num_hidden_layers"])
    writer.add_context_length(text["max_position_embeddings"])
    writer.add_embedding_length(text["hidden_size"])
    writer.add_feed_forward_length(text["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(text["rms_norm_eps"])

    if family.architecture == "qwen3":
        # TextModel.set_gguf_parameters: rope_theta, head_dim as key/value length; no rope
        # dimension count (llama.cpp: n_rot = key_length).
        writer.add_rope_freq_base(text["rope_parameters"]["rope_theta"])
        writer.add_key_length(text["head_dim"])
        writer.add_value_length(text["head_dim"])
    elif family.architecture in ("gemma", "gemma2"):
        # GemmaModel / Gemma2Model: no rope_freq_base (llama.cpp defaults to 10000).
        writer.add_key_length(text["head_dim"])
        writer.add_value_length(text["head_dim"])
        if family.architecture == "gemma2":
            writer.add_attn_logit_softcapping(text["attn_logit_softcapping"])
            writer.add_final_logit_softcapping(text["final_logit_softcapping"])
            writer.add_sliding_window(text["sliding_window"])
    elif family.architecture == "gemma3":
        rope = text["rope_parameters"]
        full, local = rope["full_attention"], rope["sliding_attention"]
        if full.get("rope_type") == "linear":
            writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            writer.add_rope_scaling_factor(full["factor"])
        writer.add_rope_freq_base(full["rope_theta"])
        writer.add_rope_freq_base_swa(local["rope_theta"])
        writer.add_key_length(text["head_dim"])
        writer.add_value_length(text["head_dim"])
        if text.get("final_logit_softcapping"):
            writer.add_final_logit_softcapping(text["final_logit_softcapping"])
        if text.get("sliding_window_pattern") != 1:
            writer.add_sliding_window(text["sliding_window"])
    elif family.architecture == "phi3":
        # Phi3MiniModel.set_gguf_parameters (it does not call TextModel's: no rope.scaling.type).
        rotary = int(text.get("partial_rotary_factor", 1.0) * text["hidden_size"]) // heads
        writer.add_rope_scaling_orig_ctx_len(text["original_max_position_embeddings"])
        writer.add_rope_dimension_count(rotary)
        writer.add_rope_freq_base(text["rope_theta"])
        writer.add_sliding_window(text.get("sliding_window") or 0)
        rope = text.get("rope_scaling") or {}
        if rope.get("long_factor"):
            scale = text["max_position_embeddings"] / text["original_max_position_embeddings"]
            assert rope["type"] in ("longrope", "su")
            attn_factor = math.sqrt(1 + math.log(scale) / math.log(text["original_max_position_embeddings"])) \
                if scale > 1.0 else 1.0
            writer.add_rope_scaling_attn_factors(attn_factor)
    else:
        raise ValueError(family.architecture)


def extra_tensors(family: Family, config: dict) -> dict[str, np.ndarray]:
    """Phi3MiniModel.generate_extra_tensors: the LongRoPE factors, one set for all layers."""
    rope = config.get("rope_scaling") or {}
    if family.architecture != "phi3" or not rope.get("long_factor"):
        return {}
    return {"rope_factors_long.weight": np.array(rope["long_factor"], dtype=np.float32),
            "rope_factors_short.weight": np.array(rope["short_factor"], dtype=np.float32)}


def write_family(family: Family, qtype_name: str) -> None:
    folder = MODELS / family.source
    config = json.loads((folder / "config.json").read_text())
    text = {**config, **config.get("text_config", {})}
    tokens = json.loads((folder / "expected.json").read_text())["tokens"]
    qtype = QTYPES[qtype_name]
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager",
                                                 **family.overrides)
    model.eval()

    name = f"{family.name}-{qtype_name.lower().replace('_', '')}"
    path = OUT / f"{name}.gguf"
    writer = gguf.GGUFWriter(str(path), family.architecture)
    writer.add_name(name)
    write_metadata(writer, family, config)
    writer.add_vocab_size(text["vocab_size"])
    writer.add_file_type(FILE_TYPES[qtype_name])
    writer.add_tokenizer_model("no_vocab")  # no tokenizer: llama.cpp's name for that

    arch = next(a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == family.architecture)
    names = gguf.get_tensor_name_map(arch, text["num_hidden_layers"])
    shift = 1.0 if gemma_like(family) else 0.0
    held: dict[str, torch.Tensor] = {}   # what the file holds, as HF weights
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and (gemma_like(family) and family.architecture != "gemma3"
                                            or text.get("tie_word_embeddings")):
            continue  # tied, or Gemma 1/2 (the converter always drops lm_head)
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert gguf_name, f"{family.name}: no GGUF name for {hf_name}"
        data = tensor.numpy().astype(np.float32)
        is_norm = hf_name.endswith("norm.weight")
        if is_norm:
            data = data + np.float32(shift)  # GemmaModel / Gemma3Model.modify_tensors
        if data.ndim <= 1 or gguf_name.endswith("_norm.weight") or qtype_name == "F32":
            writer.add_tensor(gguf_name, data)
            stored = data
        else:
            quantized = gguf.quants.quantize(data, qtype)
            writer.add_tensor(gguf_name, quantized, raw_dtype=qtype)
            stored = gguf.quants.dequantize(quantized, qtype).reshape(data.shape).astype(np.float32)
        if is_norm:
            stored = stored - np.float32(shift)
        held[hf_name] = torch.from_numpy(np.ascontiguousarray(stored))
    for extra_name, values in extra_tensors(family, text).items():
        writer.add_tensor(extra_name, values)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    with torch.no_grad():
        original = model(torch.tensor([tokens])).logits[0]
        if "lm_head.weight" not in held:
            held["lm_head.weight"] = held["model.embed_tokens.weight"]
        model.load_state_dict(held)
        reference = model(torch.tensor([tokens])).logits[0]
    error = float((reference - original).abs().max())
    result = {
        "description": f"{family.description}, {qtype_name}",
        "source": family.source,
        "type": qtype_name,
        "tokens": tokens,
        "reference": [[round(float(v), 6) for v in row] for row in reference],
        "original": [[round(float(v), 6) for v in row] for row in original],
        "quantization_error": round(error, 6),
    }
    cpp = llama_cpp_logits(path, tokens)
    agreement = ""
    if cpp is not None:
        result["llama_cpp"] = [[round(float(v), 6) for v in row] for row in cpp]
        difference = float(np.abs(cpp - reference.numpy()).max())
        agreement = f", max |llama.cpp - reference| = {difference:.6f}"
        if qtype_name == "F32" and gemma_like(family):
            assert difference < F32_AGREEMENT_F16_GELU, f"{name}: llama.cpp disagrees with HF ({difference})"
            for layer in model.model.layers:
                layer.mlp.act_fn = GeluThroughF16Table()
            with torch.no_grad():
                emulated = model(torch.tensor([tokens])).logits[0]
            f16_gelu = float(np.abs(cpp - emulated.numpy()).max())
            assert f16_gelu < F32_AGREEMENT_EMULATED_GELU, \
                f"{name}: llama.cpp disagrees with HF + f16 GELU ({f16_gelu})"
            agreement += f" (HF with llama.cpp's f16 GELU: {f16_gelu:.6f})"
        elif qtype_name == "F32":
            assert difference < F32_AGREEMENT, f"{name}: llama.cpp disagrees with HF ({difference})"
    else:
        agreement = ", llama.cpp not installed: no llama_cpp logits"
    (OUT / f"{name}.json").write_text(json.dumps(result) + "\n")
    print(f"{path.name}: {path.stat().st_size} bytes, max |reference - original| = {error:.6f}{agreement}")


def write_families() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    for family in FAMILIES:
        for qtype_name in ["F32", "Q8_0"]:
            write_family(family, qtype_name)


if __name__ == "__main__":
    sys.exit(write_families())
