#!/usr/bin/env python3
"""Parity fixture for released Huginn-0125 checkpoints (model_type "huginn_raven",
Geiping et al. 2025): Tests/EngineTests/Fixtures/huginn/.

    /work/venv-huginn/bin/python training/make_huginn_fixtures.py \\
        --modeling /path/to/raven_modeling_minimal.py \\
        [--config /path/to/raven_config_minimal.py] [--reference-commit SHA]

The reference is the authors' own code: `raven_modeling_minimal.py` and
`raven_config_minimal.py` from seal-rg/recurrent-pretraining (recpre/) or from the hub
checkpoint. None of it is committed here; this script imports it from the paths given
(the config module defaults to the file beside the modeling file). It needs the versions of
training/requirements-huginn.txt (transformers 4.47.1, the version the hub code names).

What it does:
 1. builds a TINY random model with THEIR RavenConfig / RavenForCausalLM classes (random
    weights scaled so that attention is far from uniform and logits are O(1-10); nonzero
    qk_bias, norm weights away from 1);
 2. writes it with THEIR `save_pretrained` and keeps config.json + model.safetensors,
    laid out like the released checkpoint (real keys, model_type, auto_map, tensor names,
    `lm_head.weight` stored beside `transformer.wte.weight` as on the hub, and the
    persistent `freqs_cis` buffer); loads that folder back with their `from_pretrained`;
 3. runs THEIR forward from that reload at num_steps 1, 4 and 8 from a ZERO initial state
    (`input_states=zeros`, the converter's deterministic path; checked equal to
    `init_scale=0`, which makes `initialize_state` return zeros);
 4. checks that their KV-cached path (HuginnDynamicCache, one token at a time, and in
    chunks) gives the same logits as the full forward, and records the cache keys it used;
 5. checks an independent implementation of /work/notes/huginn.md (this file's
    `spec_forward`, HF half-split RoPE on permuted Wqkv rows / qk_bias) against their logits.

expected.json:
{
  "description": str,
  "reference": {...},                 # where the reference code came from, versions used
  "state_init": str,                  # how the initial state was set (zero)
  "tokens": [int, ...],               # positions 0..n-1
  "runs": [{"num_steps": 1, "logits": [[float x vocab] x n]}, ...],   # their full forward
  "logits_tolerance": 1e-3,           # suggested max |engine - expected| per logit
  "checks": {...},                    # max |diff| of the cross-checks above (float32 noise)
  "kv_cache": {...},                  # their cache keys per recursion (see huginn.md)
  "diagnostics": {...}                # attention sharpness, logit scale, step sensitivity
}
Logits are float32 printed with 9 significant digits (round-trips float32).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import shutil
import sys
import tempfile
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "EngineTests" / "Fixtures" / "huginn"

# Tiny on purpose (committed). Real structure: prelude P, core C looped r times, coda D.
TINY = dict(
    n_embd=32,
    n_heads=4,                      # head_dim 8: 4 rotary pairs per head
    n_layers=4,                     # P + C + D
    n_layers_in_prelude=1,
    n_layers_in_recurrent_block=2,
    n_layers_in_coda=1,
    intermediate_size=64,
    vocab_size=96,
    padding_multiple=96,
    block_size=32,                  # rope table rows (the freqs_cis buffer)
    rope_base=100.0,                # released: 50000; small so every pair turns within 12 tokens
    norm_eps=1e-6,
    qk_bias=True,
    tie_embeddings=True,
    bias=False,
    mean_recurrence=4,
    mean_backprop_depth=2,
)
STEP_COUNTS = (1, 4, 8)
SEQUENCE_LENGTH = 12
SEED = 125


def load_reference(modeling: Path, config: Path):
    """Imports their two modules as one package (the modeling file imports
    `.raven_config_minimal` relatively)."""
    package = types.ModuleType("huginn_reference")
    package.__path__ = [str(modeling.parent)]
    sys.modules[package.__name__] = package
    modules = {}
    for name, path in (("raven_config_minimal", config), ("raven_modeling_minimal", modeling)):
        spec = importlib.util.spec_from_file_location(f"{package.__name__}.{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        modules[name] = module
    return modules["raven_config_minimal"], modules["raven_modeling_minimal"]


def randomize(model, generator: torch.Generator) -> None:
    """Random weights with O(1) activations everywhere: the sandwich norms rescale every
    block output, so the scales below set how peaked attention is and how big logits get."""
    d = model.config.n_embd
    ffn = model.config.intermediate_size

    def normal(shape, std):
        return torch.randn(shape, generator=generator) * std

    with torch.no_grad():
        for name, parameter in model.named_parameters():
            shape = parameter.shape
            if name.endswith("wte.weight"):
                value = normal(shape, 0.6)                # tied head: logits ~ 0.6 * sqrt(d) * |ln_f|
            elif "norm" in name or name.endswith("ln_f.weight"):
                value = 0.6 + 0.8 * torch.rand(shape, generator=generator)
            elif name.endswith("Wqkv.weight"):
                value = normal(shape, 0.35)               # q.k / sqrt(8) has std ~ 2-3: peaked
            elif name.endswith("qk_bias"):
                value = normal(shape, 0.5)
            elif name.endswith("attn.proj.weight"):
                value = normal(shape, 1 / math.sqrt(d))
            elif name.endswith("mlp.fc.weight"):
                value = normal(shape, 1 / math.sqrt(d))
            elif name.endswith("mlp.proj.weight"):
                value = normal(shape, 1 / math.sqrt(ffn))
            elif name.endswith("adapter.weight"):
                # Columns [0, d) read the state, [d, 2d) the prelude output. A small state
                # half makes the loop contractive, as in a trained model: the state settles
                # with more steps and float32 rounding is not amplified loop after loop
                # (at full scale this random core is chaotic: 5e-4 noise after 8 loops).
                value = normal(shape, 1 / math.sqrt(2 * d))
                value[:, :d] *= 0.3
            else:
                raise SystemExit(f"make_huginn_fixtures: no init rule for parameter {name}")
            parameter.copy_(value)


def save_like_release(model, folder: Path) -> None:
    """Their save_pretrained; the hub checkpoint stores the tied embedding twice (its model
    card says so), so the head is untied into an equal copy before saving."""
    model.lm_head.weight = torch.nn.Parameter(model.transformer.wte.weight.detach().clone())
    model.save_pretrained(folder, safe_serialization=True)


def full_forward(model, tokens: torch.Tensor, steps: int) -> torch.Tensor:
    zeros = torch.zeros(1, tokens.shape[1], model.config.n_embd)
    with torch.no_grad():
        return model(tokens, num_steps=steps, input_states=zeros).logits[0]


def cached_forward(module, model, tokens: torch.Tensor, steps: int, chunks: list[int]):
    """Their KV-cached path: HuginnDynamicCache, the sequence fed in `chunks`."""
    cache = module.HuginnDynamicCache()
    rows = []
    start = 0
    with torch.no_grad():
        for size in chunks:
            piece = tokens[:, start : start + size]
            out = model(
                piece,
                num_steps=steps,
                past_key_values=cache,
                use_cache=True,
                cache_position=torch.arange(start, start + size),
                input_states=torch.zeros(1, size, model.config.n_embd),
            )
            rows.append(out.logits[0])
            cache = out.past_key_values
            start += size
    return torch.cat(rows, dim=0), cache


# ---- An independent implementation of the spec in /work/notes/huginn.md ----------------
# Written from the notes, not from their code: HF half-split RoPE on q/k rows permuted from
# their interleaved pair order, plain loops, one token row at a time.

def half_split_permutation(head_dim: int) -> torch.Tensor:
    """new row j takes old row perm[j]: evens (pair firsts) then odds (pair seconds)."""
    return torch.cat([torch.arange(0, head_dim, 2), torch.arange(1, head_dim, 2)])


def spec_forward(weights: dict, config: dict, tokens: list[int], steps: int, record=None):
    d = config["n_embd"]
    heads = config["n_heads"]
    hd = d // heads
    eps = config["norm_eps"]
    theta = config["rope_base"]
    perm = half_split_permutation(hd)
    n = len(tokens)

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    def rope(x, pos):                                     # x [heads, hd], half-split (HF)
        inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        angle = pos * inv
        cos = torch.cat([angle.cos(), angle.cos()])
        sin = torch.cat([angle.sin(), angle.sin()])
        rotated = torch.cat([-x[:, hd // 2 :], x[:, : hd // 2]], dim=-1)
        return x * cos + rotated * sin

    def layer(prefix, x, name):
        w = lambda key: weights[f"{prefix}.{key}"]        # noqa: E731
        qkv = w("attn.Wqkv.weight")
        q_rows = qkv[:d].view(heads, hd, d)[:, perm].reshape(d, d)
        k_rows = qkv[d : 2 * d].view(heads, hd, d)[:, perm].reshape(d, d)
        v_rows = qkv[2 * d :]
        q_bias = w("attn.qk_bias")[0, 0][:, perm]         # [heads, hd]
        k_bias = w("attn.qk_bias")[1, 0][:, perm]
        a = rms(x, w("norm_1.weight"))
        q = torch.stack([rope((a[t] @ q_rows.T).view(heads, hd) + q_bias, t) for t in range(n)])
        k = torch.stack([rope((a[t] @ k_rows.T).view(heads, hd) + k_bias, t) for t in range(n)])
        v = (a @ v_rows.T).view(n, heads, hd)
        scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd)
        scores = scores.masked_fill(torch.ones(n, n).triu(1).bool(), float("-inf"))
        probs = scores.softmax(-1)
        if record is not None:
            record.append((name, probs))
        o = torch.einsum("hqk,khd->qhd", probs, v).reshape(n, d)
        x = rms(x + o @ w("attn.proj.weight").T, w("norm_2.weight"))
        m = rms(x, w("norm_3.weight"))
        gate, up = (m @ w("mlp.fc.weight").T).chunk(2, dim=-1)
        x = rms(x + (torch.nn.functional.silu(gate) * up) @ w("mlp.proj.weight").T, w("norm_4.weight"))
        return x

    x = weights["transformer.wte.weight"][tokens] * math.sqrt(d)
    for i in range(config["n_layers_in_prelude"]):
        x = layer(f"transformer.prelude.{i}", x, f"prelude.{i}")
    e = x
    s = torch.zeros(n, d)
    for loop in range(steps):
        s = torch.cat([s, e], dim=-1) @ weights["transformer.adapter.weight"].T
        for j in range(config["n_layers_in_recurrent_block"]):
            s = layer(f"transformer.core_block.{j}", s, f"core.{j}.loop{loop}")
    h = rms(s, weights["transformer.ln_f.weight"])       # ln_f before the coda ...
    for i in range(config["n_layers_in_coda"]):
        h = layer(f"transformer.coda.{i}", h, f"coda.{i}")
    h = rms(h, weights["transformer.ln_f.weight"])       # ... and after it
    head = weights.get("lm_head.weight", weights["transformer.wte.weight"])
    return h @ head.T


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def rows(logits: torch.Tensor) -> list[list[float]]:
    return [[float(f"{v:.9g}") for v in row] for row in logits.tolist()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modeling", type=Path, required=True, help="path to raven_modeling_minimal.py")
    parser.add_argument("--config", type=Path, help="path to raven_config_minimal.py (default: beside --modeling)")
    parser.add_argument("--reference-commit", default="unknown", help="commit the reference files came from")
    args = parser.parse_args()
    config_path = args.config or args.modeling.with_name("raven_config_minimal.py")
    for path in (args.modeling, config_path):
        if not path.is_file():
            raise SystemExit(f"make_huginn_fixtures: {path}: no such file")

    import safetensors.torch
    import transformers

    torch.manual_seed(SEED)                              # their post_init draws; overwritten below
    torch.use_deterministic_algorithms(True)
    config_module, module = load_reference(args.modeling, config_path)
    generator = torch.Generator().manual_seed(SEED)

    model = module.RavenForCausalLM(config_module.RavenConfig(**TINY)).eval()
    randomize(model, generator)
    tokens = torch.randint(0, TINY["vocab_size"], (1, SEQUENCE_LENGTH), generator=generator)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        save_like_release(model, folder)
        # The reference numbers come from their loader reading the files we commit.
        model = module.RavenForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
        OUT.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "model.safetensors"):
            shutil.copyfile(folder / name, OUT / name)
        copied_code = sorted(p.name for p in folder.glob("*.py"))   # their code: not kept

    weights = safetensors.torch.load_file(OUT / "model.safetensors")
    config = json.loads((OUT / "config.json").read_text())

    runs, checks, kv_cache, diagnostics = [], {}, {}, {}
    previous = None
    for steps in STEP_COUNTS:
        logits = full_forward(model, tokens, steps)
        with torch.no_grad():
            init_scale_zero = model(tokens, num_steps=steps, init_scale=0.0).logits[0]
        one_by_one, cache = cached_forward(module, model, tokens, steps, [1] * SEQUENCE_LENGTH)
        chunked, _ = cached_forward(module, model, tokens, steps, [5, 1, 4, 2])
        attention = []
        spec = spec_forward(weights, config, tokens[0].tolist(), steps, record=attention)
        checks[f"num_steps_{steps}"] = {
            "init_scale_0_vs_zero_input_states": max_diff(init_scale_zero, logits),
            "cached_one_token_at_a_time_vs_full": max_diff(one_by_one, logits),
            "cached_chunks_5_1_4_2_vs_full": max_diff(chunked, logits),
            "spec_forward_vs_full": max_diff(spec, logits),
        }
        kv_cache[f"num_steps_{steps}"] = {
            str(key): len(entries) for key, entries in sorted(cache.key_cache.items())
        }
        # How far from uniform attention is: mean over layers and query rows t >= 1 of
        # max_k p(k) against the uniform 1/(t+1) average.
        peaks = [probs[:, t, : t + 1].max(-1).values.mean() for _, probs in attention for t in range(1, SEQUENCE_LENGTH)]
        uniform = sum(1 / (t + 1) for t in range(1, SEQUENCE_LENGTH)) / (SEQUENCE_LENGTH - 1)
        diagnostics[f"num_steps_{steps}"] = {
            "logits_abs_max": float(logits.abs().max()),
            "logits_std": float(logits.std()),
            "attention_mean_max_probability": float(torch.stack(peaks).mean()),
            "attention_uniform_mean_max_probability": uniform,
            "max_abs_change_from_previous_step_count": None if previous is None else max_diff(logits, previous),
        }
        for name, value in checks[f"num_steps_{steps}"].items():
            limit = 0.0 if name.startswith("init_scale") else 5e-4
            if value > limit:
                raise SystemExit(f"make_huginn_fixtures: num_steps {steps}: {name} = {value:g} > {limit:g}")
        runs.append({"num_steps": steps, "logits": rows(logits)})
        previous = logits

    expected = {
        "description": (
            "Tiny random Huginn (huginn_raven) checkpoint: prelude 1, core 2, coda 1, n_embd 32, "
            "4 heads, vocab 96, rope_base 100. Logits of the authors' RavenForCausalLM.forward "
            "(full sequence, float32) after from_pretrained of this folder, at each num_steps, "
            "from a zero initial state. Spec: /work/notes/huginn.md."
        ),
        "reference": {
            "repository": "seal-rg/recurrent-pretraining",
            "commit": args.reference_commit,
            "files": {
                "recpre/raven_modeling_minimal.py": sha256(args.modeling),
                "recpre/raven_config_minimal.py": sha256(config_path),
            },
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "save_pretrained_also_wrote": copied_code,
        },
        "state_init": (
            "zero: forward(input_states=torch.zeros(1, n, n_embd)); equal to forward(init_scale=0.0) "
            "(initialize_state zeroes when std*scale == 0)"
        ),
        "tokens": tokens[0].tolist(),
        "runs": runs,
        "logits_tolerance": 1e-3,
        "checks": checks,
        "kv_cache": {
            "note": (
                "HuginnDynamicCache keys after feeding the 12 tokens one at a time: key -> entries. "
                "Prelude layer i writes key i; core layer j of loop l (0-based) writes "
                "P + l*C + j; coda layer i writes -(i+1)."
            ),
            **kv_cache,
        },
        "diagnostics": diagnostics,
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: config.json, model.safetensors, expected.json")
    print(json.dumps({"checks": checks, "diagnostics": diagnostics, "kv_cache": kv_cache}, indent=1))


if __name__ == "__main__":
    main()
