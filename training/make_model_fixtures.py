#!/usr/bin/env python3
"""Builds the tiny Llama-family checkpoints the Swift engine is tested against.

Each fixture is a real Hugging Face checkpoint folder, written by transformers'
`save_pretrained` (config.json + model.safetensors, or shards + index), with random
weights, plus `expected.json`: the logits that HF transformers computes (float32, eager
attention) after loading that same folder back with `from_pretrained`. So the reference
is HF reading our files, not our own idea of them.

    python training/make_model_fixtures.py        # rewrites Tests/EngineTests/Fixtures/models/

Needs torch and transformers 5.x (CPU is fine). Output is deterministic for a given
torch version; the outputs are committed so `swift test` needs no Python.

expected.json:
    {"description": str,
     "tokens": [int, ...],                  # fed one per position from position 0
     "logits": [[float, ...], ...],         # one row of vocab_size logits per position
     "greedy": {"prompt": [int, ...], "generated": [int, ...], "min_margin": float},
     "text": {"prompt": str, "generated": str}}
"greedy" (only some fixtures) is HF `generate(do_sample=False)` with no EOS; min_margin is
the smallest gap between the best and second-best logit along the way, so a reader can
see the argmax is not a coin toss in f32. "text" (only fixtures that ship a tokenizer):
greedy's prompt as text (encoded with special tokens it gives greedy.prompt) and the
generated text as HF's TextStreamer shows it: decode(prompt + generated) minus
decode(prompt), special tokens skipped.
"""

import json
import math
import shutil
from pathlib import Path

import torch
from tokenizers import Tokenizer
from transformers import (
    AutoModelForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "EngineTests" / "Fixtures" / "models"
TOKENIZERS = ROOT / "Tests" / "EngineTests" / "Fixtures" / "tokenizers"

# Small on purpose: every fixture is committed. 2 layers, hidden 32, vocabulary 96.
BASE = dict(
    vocab_size=96,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    max_position_embeddings=256,
)
SEQUENCE_LENGTH = 12


def randomize(model: torch.nn.Module, seed: int, norm_center: float = 1.0) -> None:
    """Weights large enough that logits are O(1-10) and attention is far from uniform,
    so a 1e-3 tolerance means something (HF's own init gives logits near 0).
    norm_center: 0 for Gemma-style norms that scale by (1 + weight)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if "norm" in name:
                parameter.copy_(norm_center + 0.2 * noise)
            elif name.endswith(".bias"):
                parameter.copy_(0.5 * noise)
            elif "embed_tokens" in name:
                parameter.copy_(noise)
            else:
                fan_in = parameter.shape[1]
                gain = 2.0 if ("q_proj" in name or "k_proj" in name) else 1.0
                if "lm_head" in name:
                    gain = 3.0
                parameter.copy_(gain * noise / math.sqrt(fan_in))


def round_to(model: torch.nn.Module, dtype: torch.dtype) -> None:
    """Rounds every weight to `dtype` (kept in f32): the reference then computes in f32
    on exactly the values the half-precision checkpoint stores."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(parameter.to(dtype).to(torch.float32))


def rewrite_as_transformers_4(folder: Path) -> None:
    """Rewrites config.json the way transformers 4.x wrote it: `rope_theta` at the top,
    `rope_scaling` (null or a dict with "type"/"rope_type"), `torch_dtype`."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    rope = config.pop("rope_parameters")
    config["rope_theta"] = rope.pop("rope_theta")
    rope_type = rope.pop("rope_type")
    if rope_type == "default":
        config["rope_scaling"] = None
    else:
        # Older 4.x configs spelled it "type" (linear), newer ones "rope_type" (llama3).
        key = "type" if rope_type == "linear" else "rope_type"
        config["rope_scaling"] = {key: rope_type, **rope}
    config["torch_dtype"] = config.pop("dtype")
    config["transformers_version"] = "4.46.0"
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def reference_logits(folder: Path, tokens: list[int]) -> torch.Tensor:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0]


def greedy(folder: Path, prompt: list[int], count: int) -> dict:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        output = model.generate(
            torch.tensor([prompt]), max_new_tokens=count, min_new_tokens=count, do_sample=False,
            eos_token_id=None, pad_token_id=0, output_logits=True, return_dict_in_generate=True)
    margins = [float((lambda top: top[0] - top[1])(step[0].topk(2).values)) for step in output.logits]
    return {
        "prompt": prompt,
        "generated": output.sequences[0, len(prompt):].tolist(),
        "min_margin": round(min(margins), 6),
    }


def build(name, description, model_class, config, seed, dtype=torch.float32, transformers4=False,
          shard_size=None, greedy_tokens=0, check_window=None, tokenizer=None, prompt=None,
          sequence_length=SEQUENCE_LENGTH):
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = model_class(config)
    randomize(model, seed)
    if dtype != torch.float32:
        round_to(model, dtype)
    save_kwargs = {"max_shard_size": shard_size} if shard_size else {}
    model.to(dtype).save_pretrained(folder, **save_kwargs)
    (folder / "generation_config.json").unlink(missing_ok=True)
    if transformers4:
        rewrite_as_transformers_4(folder)

    generator = torch.Generator().manual_seed(seed + 1)
    tokens = torch.randint(0, config.vocab_size, (sequence_length,), generator=generator).tolist()
    logits = reference_logits(folder, tokens)
    assert logits.abs().max() > 1, f"{name}: logits too small for a meaningful tolerance"

    if check_window:
        # The fixture must exercise the sliding window: without it the logits differ.
        config_path = folder / "config.json"
        original = config_path.read_text()
        patched = json.loads(original)
        patched.update(check_window)
        config_path.write_text(json.dumps(patched))
        unwindowed = reference_logits(folder, tokens)
        config_path.write_text(original)
        assert (unwindowed - logits).abs().max() > 1e-2, f"{name}: sliding window has no effect"

    expected = {
        "description": description,
        "tokens": tokens,
        "logits": [[round(float(x), 6) for x in row] for row in logits],
    }
    if tokenizer:
        # A model folder with its tokenizer, generating from a text prompt.
        shutil.copy(tokenizer, folder / "tokenizer.json")
        hf_tokenizer = Tokenizer.from_file(str(tokenizer))
        prompt_ids = hf_tokenizer.encode(prompt, add_special_tokens=True).ids
        expected["greedy"] = greedy(folder, prompt_ids, greedy_tokens)
        generated = expected["greedy"]["generated"]
        special = {i for i, token in hf_tokenizer.get_added_tokens_decoder().items() if token.special}
        assert not special & set(generated), f"{name}: greedy text contains special tokens"
        shown_prompt = hf_tokenizer.decode(prompt_ids, skip_special_tokens=True)
        shown_all = hf_tokenizer.decode(prompt_ids + generated, skip_special_tokens=True)
        assert shown_all.startswith(shown_prompt)
        expected["text"] = {"prompt": prompt, "generated": shown_all[len(shown_prompt):]}
        assert any(ord(c) > 0x7F and c != "\ufffd" for c in expected["text"]["generated"]), \
            f"{name}: no multi-byte character in the greedy text"
    elif greedy_tokens:
        expected["greedy"] = greedy(folder, tokens[:4], greedy_tokens)
    if greedy_tokens:
        assert expected["greedy"]["min_margin"] > 1e-3, f"{name}: greedy path has a near-tie"
    (folder / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")
    size = sum(f.stat().st_size for f in folder.iterdir())
    print(f"{name:16s} {size / 1024:7.1f} KB  {description}")


def main() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)

    build("llama2", "Llama 2 style: multi-head attention, untied head, default rope; transformers 4.x config",
          LlamaForCausalLM, LlamaConfig(**BASE, num_key_value_heads=4), seed=1,
          transformers4=True, greedy_tokens=8)

    build("llama3", "Llama 3 style: llama3 rope scaling, explicit head_dim 12 != 32/4, GQA 4/2, tied head; 5.x config",
          LlamaForCausalLM,
          LlamaConfig(**BASE, num_key_value_heads=2, head_dim=12, tie_word_embeddings=True,
                      bos_token_id=1, eos_token_id=[2, 3],
                      rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                                       "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                       "original_max_position_embeddings": 64}),
          seed=2, greedy_tokens=8)

    build("llama-mqa", "multi-query attention (1 kv head), attention and MLP biases, linear rope scaling; 4.x config",
          LlamaForCausalLM,
          LlamaConfig(**BASE, num_key_value_heads=1, attention_bias=True, mlp_bias=True,
                      rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}),
          seed=3, transformers4=True)

    build("mistral", "Mistral: sliding window 4 over 12 tokens, GQA 4/2, untied",
          MistralForCausalLM, MistralConfig(**BASE, num_key_value_heads=2, sliding_window=4), seed=4,
          check_window={"sliding_window": None})

    build("qwen2", "Qwen2: q/k/v biases, tied head, sliding window 3 on layer 1 only (max_window_layers 1)",
          Qwen2ForCausalLM,
          Qwen2Config(**BASE, num_key_value_heads=2, tie_word_embeddings=True, use_sliding_window=True,
                      sliding_window=3, max_window_layers=1),
          seed=5, greedy_tokens=8, check_window={"use_sliding_window": False, "layer_types": None})

    build("llama-bf16", "Llama, BF16 checkpoint (reference: HF in f32 on the same rounded weights)",
          LlamaForCausalLM, LlamaConfig(**BASE, num_key_value_heads=2), seed=6, dtype=torch.bfloat16)

    build("llama-f16", "Llama, F16 checkpoint (reference: HF in f32 on the same rounded weights)",
          LlamaForCausalLM, LlamaConfig(**BASE, num_key_value_heads=2), seed=7, dtype=torch.float16)

    build("llama-sharded", "Llama in shards with model.safetensors.index.json (BF16, untied)",
          LlamaForCausalLM, LlamaConfig(**BASE, num_key_value_heads=2), seed=8, dtype=torch.bfloat16,
          shard_size="20KB")

    # Random weights rarely say anything multi-byte: take the first seed whose greedy text
    # does (and has no special tokens or near-ties), so streaming UTF-8 is exercised.
    llama3_tokenizer = TOKENIZERS / "llama3" / "tokenizer.json"
    vocabulary = Tokenizer.from_file(str(llama3_tokenizer))
    for seed in range(9, 200):
        try:
            build("llama3-tokenizer", "Llama 3 style with its byte-level tokenizer.json: greedy text from a text prompt",
                  LlamaForCausalLM,
                  LlamaConfig(**{**BASE, "vocab_size": vocabulary.get_vocab_size(with_added_tokens=True)},
                              num_key_value_heads=2, tie_word_embeddings=True,
                              bos_token_id=vocabulary.token_to_id("<|begin_of_text|>"),
                              eos_token_id=vocabulary.token_to_id("<|end_of_text|>")),
                  seed=seed, dtype=torch.bfloat16, greedy_tokens=24, sequence_length=4,
                  tokenizer=llama3_tokenizer, prompt="Café 東京 🙂 to be")
            break
        except AssertionError as error:
            print(f"  seed {seed} rejected: {error}")


if __name__ == "__main__":
    main()
