#!/usr/bin/env python3
"""Builds tiny checkpoints of the model families beyond Llama: Qwen3, Gemma, Gemma 2,
Gemma 3 (text-only and the multimodal checkpoint) and Phi-3 (plain, LongRoPE, partial rotary).

Same formats as make_model_fixtures.py (a checkpoint folder + expected.json with HF
transformers' float32 eager logits after loading that folder back). Each config.json has the
shape real hub checkpoints of that family have (the transformers version that wrote them is
noted per fixture), and every fixture checks that its family's features change the logits
(a window that never slides, or a soft-cap that never bites, would test nothing).

    python training/make_family_fixtures.py   # rewrites its folders in Tests/EngineTests/Fixtures/models/

The forward math, config keys and tensor names of each family, and how llama.cpp's converter
writes them: the family spec, families.md, in the project notes.
"""

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    Gemma3Config,
    Gemma3ForCausalLM,
    Gemma3ForConditionalGeneration,
    Gemma3TextConfig,
    GemmaConfig,
    GemmaForCausalLM,
    Phi3Config,
    Phi3ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)

from make_model_fixtures import OUT, SEQUENCE_LENGTH, randomize, round_to

TINY = dict(vocab_size=96, hidden_size=32, intermediate_size=64, max_position_embeddings=256)


# ---------------------------------------------------------------------------------------------
# HF reference: load the folder the way a user would (the class config.json names)

def load(folder: Path, edit: Callable[[torch.nn.Module], None] | None = None) -> torch.nn.Module:
    config = json.loads((folder / "config.json").read_text())
    model_class = getattr(transformers, config["architectures"][0])
    model = model_class.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    if edit:
        edit(model)
    return model


def forward(model: torch.nn.Module, tokens: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0]


def incremental(model: torch.nn.Module, tokens: list[int]) -> torch.Tensor:
    """One token per call with HF's KV cache: what generate() does after the prompt."""
    rows, cache = [], None
    with torch.no_grad():
        for token in tokens:
            output = model(torch.tensor([[token]]), past_key_values=cache, use_cache=True)
            cache = output.past_key_values
            rows.append(output.logits[0, -1])
    return torch.stack(rows)


def greedy(model: torch.nn.Module, prompt: list[int], count: int) -> dict:
    with torch.no_grad():
        output = model.generate(
            torch.tensor([prompt]), max_new_tokens=count, min_new_tokens=count, do_sample=False,
            eos_token_id=None, pad_token_id=0, output_logits=True, return_dict_in_generate=True)
    margins = [float((lambda top: top[0] - top[1])(step[0].topk(2).values)) for step in output.logits]
    result = {"prompt": prompt, "generated": output.sequences[0, len(prompt):].tolist(),
              "min_margin": round(min(margins), 6)}
    assert result["min_margin"] > 1e-3, f"greedy path has a near-tie ({result['min_margin']})"
    return result


# ---------------------------------------------------------------------------------------------
# Checks: a feature is exercised when switching it off (config edit or model edit) changes
# the logits; `unused` edits must leave them unchanged (e.g. LongRoPE's short factors when
# the long ones are in play).

def edit_config(folder: Path, change: Callable[[dict], None]) -> str:
    path = folder / "config.json"
    original = path.read_text()
    config = json.loads(original)
    change(config)
    path.write_text(json.dumps(config))
    return original


def logits_with(folder: Path, tokens: list[int], config_change=None, model_edit=None) -> torch.Tensor:
    original = edit_config(folder, config_change) if config_change else None
    try:
        return forward(load(folder, model_edit), tokens)
    finally:
        if original is not None:
            (folder / "config.json").write_text(original)


@dataclass
class Subject:
    """A fixture folder, its tokens and HF's logits for them."""
    folder: Path
    tokens: list[int]
    logits: torch.Tensor

    def check(self, label: str, config_change=None, model_edit=None, matters: bool | None = True) -> float:
        """matters None: only report the size of the effect."""
        other = logits_with(self.folder, self.tokens, config_change, model_edit)
        difference = float((other - self.logits).abs().max())
        if matters:
            assert difference > 1e-2, f"{self.folder.name}: {label} has no effect ({difference:.2e})"
        elif matters is not None:
            assert difference < 1e-5, f"{self.folder.name}: {label} should not matter ({difference:.2e})"
        verdict = {True: "matters", False: "unused ", None: "effect "}[matters]
        print(f"    {verdict}  {label}: max |delta logit| = {difference:.4f}")
        return difference


def setting(**values) -> Callable[[dict], None]:
    """A config.json edit: top-level keys set to these values."""
    return lambda config: config.update(values)


def without_qk_norm(model: torch.nn.Module) -> None:
    for layer in model.model.layers:
        layer.self_attn.q_norm = torch.nn.Identity()
        layer.self_attn.k_norm = torch.nn.Identity()


# ---------------------------------------------------------------------------------------------
# Writing a fixture

def tokens_for(seed: int, vocab_size: int, length: int = SEQUENCE_LENGTH) -> list[int]:
    generator = torch.Generator().manual_seed(seed + 1)
    return torch.randint(0, vocab_size, (length,), generator=generator).tolist()


def make_model(model_class, config, seed: int, gemma: bool = False) -> torch.nn.Module:
    """gemma: norms scale by (1 + weight), so their weights centre on 0; the embeddings are
    multiplied by sqrt(hidden) on the way in, so they start smaller (residual stream O(1-2)
    rather than O(6), or the layers would barely move the logits)."""
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = model_class(config)
    randomize(model, seed, norm_center=0.0 if gemma else 1.0)
    if gemma:
        with torch.no_grad():
            model.get_input_embeddings().weight.mul_(0.35)
    return model


def save(model: torch.nn.Module, folder: Path, dtype: torch.dtype = torch.float32) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    if dtype != torch.float32:
        round_to(model, dtype)
    model.to(dtype).save_pretrained(folder)
    model.to(torch.float32)
    (folder / "generation_config.json").unlink(missing_ok=True)


def write_expected(subject: Subject, description: str, greedy_result: dict | None = None) -> None:
    assert subject.logits.abs().max() > 1, f"{subject.folder.name}: logits too small for a meaningful tolerance"
    expected = {"description": description, "tokens": subject.tokens,
                "logits": [[round(float(x), 6) for x in row] for row in subject.logits]}
    if greedy_result:
        expected["greedy"] = greedy_result
    (subject.folder / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")
    size = sum(f.stat().st_size for f in subject.folder.iterdir())
    print(f"{subject.folder.name:18s} {size / 1024:7.1f} KB  {description}")


def rewrite_config(folder: Path, change: Callable[[dict], dict]) -> None:
    path = folder / "config.json"
    config = change(json.loads(path.read_text()))
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def as_transformers_4(config: dict, version: str) -> dict:
    """The keys transformers 4.x wrote: `rope_theta` and `rope_scaling` at the top, `torch_dtype`."""
    rope = config.pop("rope_parameters")
    config["rope_theta"] = rope.pop("rope_theta")
    rope_type = rope.pop("rope_type")
    partial = rope.pop("partial_rotary_factor", None)
    if partial is not None and partial != 1.0:
        config["partial_rotary_factor"] = partial
    # Phi-3 keeps original_max_position_embeddings at the top only; 5.x copies it into the rope dict.
    top = config.get("original_max_position_embeddings")
    if "original_max_position_embeddings" in rope and rope["original_max_position_embeddings"] == top:
        del rope["original_max_position_embeddings"]
    config.pop("use_bidirectional_attention", None)  # a 5.x key
    config["rope_scaling"] = None if rope_type == "default" else {"type": rope_type, **rope}
    config["torch_dtype"] = config.pop("dtype")
    config["transformers_version"] = version
    return config


# ---------------------------------------------------------------------------------------------
# Families


def qwen3() -> None:
    folder, seed = OUT / "qwen3", 21
    config = Qwen3Config(**TINY, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
                         head_dim=8, tie_word_embeddings=True, rms_norm_eps=1e-6,
                         rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})
    save(make_model(Qwen3ForCausalLM, config, seed), folder)
    tokens = tokens_for(seed, config.vocab_size)
    model = load(folder)
    subject = Subject(folder, tokens, forward(model, tokens))
    subject.check("q_norm / k_norm", model_edit=without_qk_norm)
    write_expected(subject, "Qwen3: q_norm/k_norm per head before rope, head_dim 8 (8 heads x 8 = 64 != hidden 32), "
                   "GQA 8/2, tied head, rope_theta 1e6; 5.x config", greedy(model, tokens[:4], 8))


def gemma() -> None:
    folder, seed = OUT / "gemma", 22
    config = GemmaConfig(**TINY, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                         head_dim=16, hidden_act="gelu_pytorch_tanh", rms_norm_eps=1e-6,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    save(make_model(GemmaForCausalLM, config, seed, gemma=True), folder)
    # google/gemma-2b / -7b (transformers 4.38) say "hidden_act": "gelu", which transformers
    # reads as the tanh approximation (GemmaConfig.__post_init__).
    rewrite_config(folder, lambda c: {**as_transformers_4(c, "4.38.0.dev0"), "hidden_act": "gelu"})
    tokens = tokens_for(seed, config.vocab_size)
    model = load(folder)
    subject = Subject(folder, tokens, forward(model, tokens))
    subject.check("embedding scale sqrt(hidden)", model_edit=lambda m: m.model.embed_tokens.embed_scale.fill_(1.0))
    subject.check("GeGLU (silu instead)", setting(hidden_act="silu"))
    # Too small to catch at a 1e-3 tolerance: reported, not asserted (families.md says which GELU).
    subject.check("tanh GELU (erf GELU instead)", setting(hidden_act="gelu_python"), matters=None)
    write_expected(subject, "Gemma: GeGLU (config says \"gelu\" = tanh approximation), embeddings x sqrt(32), "
                   "(1+w) RMSNorm, head_dim 16 != 32/4, MQA 4/1, tied; 4.x config", greedy(model, tokens[:4], 8))


def gemma2() -> None:
    folder, seed = OUT / "gemma2", 23
    config = Gemma2Config(**TINY, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                          head_dim=16, query_pre_attn_scalar=24, sliding_window=4,
                          attn_logit_softcapping=5.0, final_logit_softcapping=10.0, rms_norm_eps=1e-6,
                          rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    save(make_model(Gemma2ForCausalLM, config, seed, gemma=True), folder)

    def as_hub(c):
        # google/gemma-2-9b as transformers 4.42 wrote it: no layer_types (even layers slide).
        c = as_transformers_4(c, "4.42.0.dev0")
        del c["layer_types"]
        c.update(hidden_act="gelu_pytorch_tanh", cache_implementation="hybrid")
        return c
    rewrite_config(folder, as_hub)
    tokens = tokens_for(seed, config.vocab_size)
    model = load(folder)
    assert model.config.layer_types == ["sliding_attention", "full_attention"]
    subject = Subject(folder, tokens, forward(model, tokens))
    subject.check("sliding window 4 on layer 0", setting(sliding_window=4096))
    subject.check("attention logit soft-cap 5", setting(attn_logit_softcapping=None))
    subject.check("final logit soft-cap 10", setting(final_logit_softcapping=None))
    subject.check("query_pre_attn_scalar 24 (head_dim 16 instead)", setting(query_pre_attn_scalar=16))
    write_expected(subject, "Gemma 2: pre+post norms, attention soft-cap 5, final soft-cap 10, layer 0 sliding "
                   "(window 4) / layer 1 global, query_pre_attn_scalar 24, head_dim 16, GQA 4/2, tied; "
                   "4.x config without layer_types", greedy(model, tokens[:4], 8))


GEMMA3_TEXT = dict(num_attention_heads=2, num_key_value_heads=1, head_dim=16, sliding_window=4,
                   rms_norm_eps=1e-6)


def gemma3_text() -> None:
    folder, seed = OUT / "gemma3_text", 24
    # Six layers: the default pattern (every 6th layer global) is what llama.cpp assumes for
    # GGUF, which stores no pattern.
    global_rope = {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0}
    config = Gemma3TextConfig(
        **{**TINY, "intermediate_size": 32}, num_hidden_layers=6, **GEMMA3_TEXT, query_pre_attn_scalar=24,
        rope_parameters={"full_attention": global_rope,
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})
    save(make_model(Gemma3ForCausalLM, config, seed, gemma=True), folder, torch.bfloat16)
    tokens = tokens_for(seed, config.vocab_size)
    model = load(folder)
    assert model.config.layer_types == ["sliding_attention"] * 5 + ["full_attention"]
    subject = Subject(folder, tokens, forward(model, tokens))

    def rope(layer_type, values):
        return lambda c: c["rope_parameters"].update({layer_type: values})
    subject.check("sliding window 4 on layers 0-4", setting(sliding_window=4096))
    subject.check("local rope base 1e4 (global 1e6 instead)",
                  rope("sliding_attention", {"rope_type": "default", "rope_theta": 1000000.0}))
    subject.check("linear rope factor 8 on the global layer",
                  rope("full_attention", {"rope_type": "default", "rope_theta": 1000000.0}))
    subject.check("query_pre_attn_scalar 24 (head_dim 16 instead)", setting(query_pre_attn_scalar=16))
    subject.check("q_norm / k_norm", model_edit=without_qk_norm)
    write_expected(subject, "Gemma 3 text (Gemma3ForCausalLM): q/k norms, 5 sliding (window 4, rope 1e4) + 1 global "
                   "(rope 1e6, linear x8) layers, query_pre_attn_scalar 24, head_dim 16, MQA 2/1, tied, BF16; "
                   "5.x config", greedy(model, tokens[:4], 8))


def gemma3_multimodal() -> None:
    """Gemma3ForConditionalGeneration with a tiny SigLIP tower; expected = text logits from
    input_ids only. Two folders with the same weights:
      gemma3          as google/gemma-3-4b-it is on the hub (transformers 4.50): sparse
                      text_config (defaults fill the rest), tensors language_model.model.*,
                      vision_tower.vision_model.*, multi_modal_projector.*
      gemma3-v5names  as transformers 5 save_pretrained writes it: full text_config with
                      layer_types and rope_parameters, vision tensors vision_tower.* (no
                      .vision_model); the text tensors keep language_model.model.*"""
    seed = 25
    text = dict(TINY, num_hidden_layers=2, **GEMMA3_TEXT, sliding_window_pattern=2,
                rope_scaling={"rope_type": "linear", "factor": 8.0})
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                  image_size=28, patch_size=14, vision_use_head=False)
    special = dict(mm_tokens_per_image=4, boi_token_index=93, eoi_token_index=94, image_token_index=95)
    config = Gemma3Config(text_config=text, vision_config=vision, **special)
    model = make_model(Gemma3ForConditionalGeneration, config, seed, gemma=True)

    v5 = OUT / "gemma3-v5names"
    save(model, v5, torch.bfloat16)

    hub = OUT / "gemma3"
    shutil.rmtree(hub, ignore_errors=True)
    hub.mkdir()
    tensors = load_file(v5 / "model.safetensors")
    renamed = {("vision_tower.vision_model." + k[len("vision_tower."):] if k.startswith("vision_tower.") else k): v
               for k, v in tensors.items()}
    save_file(renamed, hub / "model.safetensors", metadata={"format": "pt"})
    # The hub's text_config names only what differs from the class defaults (here also the
    # tiny sizes); query_pre_attn_scalar, rope thetas and eps come from the defaults.
    text_keys = ["head_dim", "hidden_size", "intermediate_size", "num_attention_heads", "num_hidden_layers",
                 "num_key_value_heads", "sliding_window", "vocab_size"]
    hub_config = {
        "architectures": ["Gemma3ForConditionalGeneration"], **special,
        "eos_token_id": [1, 106], "initializer_range": 0.02, "model_type": "gemma3",
        "text_config": {**{k: text[k] for k in text_keys}, "model_type": "gemma3_text",
                        "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window_pattern": 2},
        "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
        "vision_config": {**vision, "model_type": "siglip_vision_model"},
    }
    (hub / "config.json").write_text(json.dumps(hub_config, indent=2, sort_keys=True) + "\n")

    tokens = tokens_for(seed, text["vocab_size"])
    model_hub, model_v5 = load(hub), load(v5)
    assert model_hub.config.text_config.layer_types == ["sliding_attention", "full_attention"]
    assert model_hub.config.text_config.query_pre_attn_scalar == 256  # the class default
    logits = forward(model_hub, tokens)
    assert torch.equal(logits, forward(model_v5, tokens)), "the two name layouts load differently"
    # The text path equals Gemma3ForCausalLM on the language model's weights.
    causal = Gemma3ForCausalLM(model_hub.config.text_config)
    causal.model.load_state_dict(model_hub.model.language_model.state_dict())
    causal.lm_head.weight = causal.model.embed_tokens.weight
    causal.eval()
    assert torch.allclose(forward(causal, tokens), logits, atol=1e-5)

    def text_setting(**values):
        return lambda c: c["text_config"].update(values)
    subject = Subject(hub, tokens, logits)
    subject.check("sliding window 4 on layer 0", text_setting(sliding_window=4096))
    subject.check("linear rope factor 8 on the global layer", lambda c: c["text_config"].pop("rope_scaling"))
    subject.check("default query_pre_attn_scalar 256 (head_dim 16 instead)", text_setting(query_pre_attn_scalar=16))
    subject.check("default local rope base 1e4 (1e6 instead)", text_setting(rope_local_base_freq=1000000.0))
    subject.check("vision tower (its weights zeroed)", matters=False,
                  model_edit=lambda m: [p.data.zero_() for p in m.model.vision_tower.parameters()])
    shared = ("Gemma 3 multimodal checkpoint (Gemma3ForConditionalGeneration, tiny SigLIP tower): text logits "
              "from input_ids; layer 0 sliding (window 4) / layer 1 global (linear rope x8), q/k norms, "
              "query_pre_attn_scalar 256 by default (head_dim 16), MQA 2/1, tied, BF16")
    write_expected(subject, shared + "; hub layout: transformers 4.50 sparse text_config, "
                   "language_model.model.* / vision_tower.vision_model.* / multi_modal_projector.*",
                   greedy(model_hub, tokens[:4], 8))
    write_expected(Subject(v5, tokens, logits), shared + "; transformers 5 save_pretrained layout: full "
                   "text_config, language_model.model.* / vision_tower.* / multi_modal_projector.*")


def phi3_config(**changes) -> Phi3Config:
    values = dict(TINY, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4, rms_norm_eps=1e-5,
                  bos_token_id=1, eos_token_id=2, pad_token_id=0)
    values.update(changes)
    return Phi3Config(**values)


def phi3_model(config: Phi3Config, seed: int) -> torch.nn.Module:
    model = make_model(Phi3ForCausalLM, config, seed)
    # randomize() gives q_proj/k_proj gain 2; here Q and K are rows of the fused qkv_proj.
    head_dim = config.hidden_size // config.num_attention_heads
    qk_rows = (config.num_attention_heads + config.num_key_value_heads) * head_dim
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.qkv_proj.weight[:qk_rows] *= 2
    return model


def phi3() -> None:
    folder, seed = OUT / "phi3", 26
    config = phi3_config(sliding_window=5, original_max_position_embeddings=256,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    save(phi3_model(config, seed), folder)
    rewrite_config(folder, lambda c: as_transformers_4(c, "4.40.2"))
    tokens = tokens_for(seed, config.vocab_size)
    model = load(folder)
    subject = Subject(folder, tokens, forward(model, tokens))
    subject.check("sliding window 5 (all layers)", setting(sliding_window=None))
    write_expected(subject, "Phi-3 (like Phi-3-mini-4k): fused qkv_proj and gate_up_proj, MHA 4/4, untied, "
                   "rope_scaling null, sliding window 5 on every layer; 4.x config", greedy(model, tokens[:4], 8))


def factors(generator: torch.Generator, count: int, low: float, high: float) -> list[float]:
    return [round(low + (high - low) * float(x), 4) for x in torch.rand(count, generator=generator)]


def rope_scaling(**values) -> Callable[[dict], None]:
    return lambda config: config["rope_scaling"].update(values)


def phi3_longrope() -> None:
    folder, seed = OUT / "phi3-longrope", 27
    generator = torch.Generator().manual_seed(seed)
    head_dim = 16
    # Like Phi-3-mini-128k: max / original = 256 / 8 = 32 (131072 / 4096). The 12-token
    # sequence is longer than 8, so HF uses the long factors, at every position.
    rope = {"rope_type": "longrope", "rope_theta": 10000.0,
            "short_factor": factors(generator, head_dim // 2, 1.0, 1.3),
            "long_factor": factors(generator, head_dim // 2, 1.0, 12.0)}
    config = phi3_config(num_attention_heads=2, num_key_value_heads=2, sliding_window=262144,
                         original_max_position_embeddings=8, rope_parameters=rope)
    save(phi3_model(config, seed), folder)
    rewrite_config(folder, lambda c: as_transformers_4(c, "4.40.2"))
    tokens = tokens_for(seed, config.vocab_size)
    model = load(folder)
    subject = Subject(folder, tokens, forward(model, tokens))
    scaling = model.model.rotary_emb.attention_scaling
    assert abs(scaling - math.sqrt(1 + math.log(32) / math.log(8))) < 1e-6
    subject.check("long factors", rope_scaling(long_factor=rope["short_factor"]))
    subject.check("short factors (12 > 8 tokens)", rope_scaling(short_factor=rope["long_factor"]), matters=False)
    subject.check(f"attention factor {scaling:.6f} on cos/sin", rope_scaling(attention_factor=1.0))
    step_by_step = incremental(model, tokens)
    print(f"    HF one token at a time (short factors until position 8, cached keys keep theirs): "
          f"max |delta logit| = {float((step_by_step - subject.logits).abs().max()):.4f}")
    write_expected(subject, "Phi-3 LongRoPE (like Phi-3-mini-128k): original_max_position_embeddings 8 < 12 tokens, "
                   "so long factors at every position; attention factor sqrt(1 + ln 32 / ln 8) on cos and sin; "
                   "head_dim 16, MHA 2/2, untied; 4.x config. No greedy: HF's decode switches factors "
                   "mid-sequence (see families.md)")


def phi3_partial() -> None:
    folder, seed = OUT / "phi3-partial", 28
    generator = torch.Generator().manual_seed(seed)
    rotary = int(16 * 0.75)
    # Like Phi-4-mini: model_type phi3, partial_rotary_factor 0.75, LongRoPE, GQA, tied. Here the
    # 12 tokens stay within original_max_position_embeddings (256): short factors, and the
    # attention factor of max / original = 4 still applies.
    rope = {"rope_type": "longrope", "rope_theta": 10000.0, "partial_rotary_factor": 0.75,
            "short_factor": factors(generator, rotary // 2, 1.0, 3.0),
            "long_factor": factors(generator, rotary // 2, 1.0, 12.0)}
    config = phi3_config(num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True,
                         max_position_embeddings=1024, original_max_position_embeddings=256,
                         sliding_window=262144, rope_parameters=rope)
    save(phi3_model(config, seed), folder)
    rewrite_config(folder, lambda c: as_transformers_4(c, "4.45.0"))
    tokens = tokens_for(seed, config.vocab_size)
    model = load(folder)
    subject = Subject(folder, tokens, forward(model, tokens))
    scaling = model.model.rotary_emb.attention_scaling
    assert abs(scaling - math.sqrt(1 + math.log(4) / math.log(256))) < 1e-6
    subject.check("short factors", rope_scaling(short_factor=rope["long_factor"]))
    subject.check("long factors (12 <= 256 tokens)", rope_scaling(long_factor=rope["short_factor"]), matters=False)
    subject.check(f"attention factor {scaling:.6f} on cos/sin", rope_scaling(attention_factor=1.0))

    def rotate_all(c):
        c["partial_rotary_factor"] = 1.0
        rope_scaling(short_factor=rope["short_factor"] + [1.0, 1.0], long_factor=rope["long_factor"] + [1.0, 1.0])(c)
    subject.check("partial rotary 0.75 (12 of 16 dims)", rotate_all)
    assert torch.allclose(incremental(model, tokens), subject.logits, atol=1e-4)
    write_expected(subject, "Phi-3 family with partial rotary (like Phi-4-mini): partial_rotary_factor 0.75 (12 of 16 "
                   "dims rotate), LongRoPE short factors (12 <= 256 tokens) with attention factor "
                   "sqrt(1 + ln 4 / ln 256), GQA 2/1, tied; 4.x config", greedy(model, tokens[:4], 8))


def main() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    for build in [qwen3, gemma, gemma2, gemma3_text, gemma3_multimodal, phi3, phi3_longrope, phi3_partial]:
        build()


if __name__ == "__main__":
    main()
