"""Parity fixtures for the adaptive-depth architectures: Tests/EngineTests/Fixtures/archs/.

    python training/make_arch_fixtures.py          # rewrites the folder (deterministic)

Layout
------
archs/models/<model>/   config.json, model.safetensors (float32), char_vocab.json
                        tiny random checkpoints (docs/architectures.md section 1); several
                        cases share one model.
archs/cases/<case>.json one case = a model, an architecture with options, a token sequence
                        and what token-by-token inference (training/depthscope_ref/incremental.py)
                        produced for it.
archs/recurrent_rng.json test vectors of the recurrent-depth random state (section 7).

Case JSON
---------
{
  "model": "plain6",                      # folder under archs/models
  "arch": "early-exit",                   # --arch NAME
  "options": {"criterion": "kl", ...},    # --arch-option key=value, values as strings
  "tokens": [3, 17, ...],                 # fed one at a time from position 0, empty cache
  "logits": [[...], ...],                 # per position: the next-token logits (float32, %.6g)
  "logits_tolerance": 1e-3,               # max |swift - expected| allowed per logit
  "trace": [                              # per position
    {"depth": 5,                          # steps executed (== len(steps))
     "steps": [["layer", 0, 0, null], ...],
                                          # every executed step in order: [block, stored layer,
                                          # recursion, score]; score = the policy's value after
                                          # the step (section 4), null if none
     "exit": {"reason": "confidence", "criterion": "kl", "score": 0.0123,
              "threshold": 0.5, "steps": 5, "max_steps": 6},
     "router_probabilities": [...] | null,   # MoR: expert scores or token-choice softmax
     "halting": [...] | null,                # ACT: cumulative halting probability per ACT step
     "margin": 0.08}                         # smallest relative distance of any decision of this
  ],                                         # token to its boundary (see below)
  "min_margin": 0.012                     # min over the case
}
Identities (recursive R=1 == vanilla, unreachable early-exit threshold == vanilla, convert
lower R=1 == first K layers, ...) need no fixture: the engine's tests compare two of its own runs.
Depths, step lists, exit reasons/criteria and thresholds must match exactly; scores,
router probabilities and halting values within 1e-3 (relative to max(1, |value|)).

Margins: every comparison a policy makes is recorded; for "value vs threshold" the margin is
|value - threshold| / max(|threshold|, 0.01), for an argmax (token-choice routing, argmax
stability) it is (p_top1 - p_top2) / p_top1. The script redraws a case's token sequence until
every margin is >= 1e-3, so another float32 engine takes the same decisions.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from depthscope_ref import rng  # noqa: E402
from depthscope_ref.arch import resolve  # noqa: E402
from depthscope_ref.incremental import run_sequence  # noqa: E402
from tiny_models import VOCAB as ALL_CHARS  # noqa: E402
from tiny_models import base_config, random_model  # noqa: E402

OUT = os.path.join(os.path.dirname(HERE), "Tests", "EngineTests", "Fixtures", "archs")
MIN_MARGIN = 1e-3
LENGTH = 12
VOCAB = ALL_CHARS[:32]
SMALL = dict(hidden=16, heads=2, kv_heads=1, ffn=32, vocab=len(VOCAB))  # small: fixtures are committed


def models() -> dict:
    """The tiny checkpoints (name -> DepthModel)."""
    m = {}
    m["plain6"] = random_model(base_config(layers=6, **SMALL), seed=101)
    m["mor_expert"] = random_model(
        base_config(layers=4, **SMALL, recursive={"num_recursion": 3, "sharing": "middle_cycle"},
                    mor={"type": "expert", "router_type": "linear", "router_func": "sigmoid",
                         "threshold": 0.5, "kv_sharing": False}),
        seed=102, bias={"model.mor_router.0.bias": 1.2, "model.mor_router.1.bias": 0.0})
    m["mor_expert_cycle"] = random_model(
        base_config(layers=2, **SMALL, recursive={"num_recursion": 3, "sharing": "cycle"},
                    mor={"type": "expert", "router_type": "linear", "router_func": "sigmoid",
                         "threshold": 0.5, "kv_sharing": True}),
        seed=103, bias={"model.mor_router.0.bias": 0.7, "model.mor_router.1.bias": 0.3})
    m["mor_token"] = random_model(
        base_config(layers=4, **SMALL, recursive={"num_recursion": 3, "sharing": "middle_cycle"},
                    mor={"type": "token", "router_type": "linear", "router_func": "softmax", "kv_sharing": False}),
        seed=104)
    m["relaxed"] = random_model(
        base_config(layers=4, **SMALL, recursive={"num_recursion": 3, "sharing": "middle_cycle"},
                    relaxation={"lora_rank": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj", "down_proj"]}),
        seed=105)
    m["ut_act"] = random_model(
        base_config(layers=1, tie=True, **SMALL, recursive={"num_recursion": 6, "sharing": "cycle"},
                    act={"max_steps": 6, "epsilon": 0.01}),
        seed=106, bias={"model.act_halting.bias": -1.2})
    m["recurrent"] = random_model(
        base_config(layers=4, **SMALL, recurrent_depth={
            "n_layers_in_prelude": 1, "n_layers_in_recurrent_block": 2, "n_layers_in_coda": 1,
            "mean_recurrence": 4, "max_recurrence": 8, "injection_type": "linear", "state_init": "normal",
            "state_init_std": 1.0, "state_init_seed": 5, "exit_criterion": "none", "exit_threshold": 0.0}),
        seed=107)
    return m


# (case name, model, arch, options, wants varied depths: redraw until some tokens differ)
CASES = [
    ("vanilla", "plain6", "vanilla", {}, False),
    ("recursive_cycle_r2", "plain6", "recursive", {"recursions": 2, "sharing": "cycle"}, False),
    ("recursive_sequence_r2", "plain6", "recursive", {"recursions": 2, "sharing": "sequence"}, False),
    ("recursive_middle_cycle_r3", "plain6", "recursive", {"recursions": 3, "sharing": "middle-cycle"}, False),
    ("relaxed", "relaxed", "relaxed", {}, False),
    ("relaxed_as_recursive", "relaxed", "recursive", {}, False),
    ("convert_stepwise", "plain6", "convert", {"recursions": 2, "init": "stepwise"}, False),
    ("convert_average", "plain6", "convert", {"recursions": 2, "init": "average"}, False),
    ("convert_average_lora4", "plain6", "convert", {"recursions": 3, "init": "average", "lora_rank": 4}, False),
    ("convert_stepwise_lora2_qv", "plain6", "convert",
     {"recursions": 2, "init": "stepwise", "lora_rank": 2, "lora_targets": "q_proj,v_proj"}, False),
    ("convert_sequence_average_lora3", "plain6", "convert",
     {"recursions": 2, "sharing": "sequence", "init": "average", "lora_rank": 3}, False),
    ("convert_middle_cycle_stepwise", "plain6", "convert",
     {"recursions": 2, "sharing": "middle_cycle", "init": "stepwise", "lora_rank": 2}, False),
    ("convert_layers5_r2", "plain6", "convert", {"recursions": 2, "layers": 5, "init": "lower"}, False),
    ("early_exit_softmax_max", "plain6", "early-exit", {"criterion": "softmax_max", "threshold": 0.5}, True),
    ("early_exit_top2_margin", "plain6", "early-exit", {"criterion": "top2_margin", "threshold": 0.3}, True),
    ("early_exit_cosine", "plain6", "early-exit", {"criterion": "cosine", "threshold": 0.9}, True),
    ("early_exit_kl", "plain6", "early-exit", {"criterion": "kl", "threshold": 0.3}, True),
    ("early_exit_argmax_stable", "plain6", "early-exit", {"criterion": "argmax_stable", "threshold": 1}, True),
    ("early_exit_kl_recursion_wise", "plain6", "early-exit",
     {"criterion": "kl", "threshold": 0.3, "kv": "recursion_wise"}, True),
    ("early_exit_min2_max4", "plain6", "early-exit",
     {"criterion": "softmax_max", "threshold": 0.4, "min_depth": 2, "max_depth": 4}, True),
    ("early_exit_on_recursive", "plain6", "early-exit",
     {"criterion": "kl", "threshold": 0.2, "recursions": 2, "sharing": "cycle"}, True),
    ("early_exit_on_relaxed", "relaxed", "early-exit", {"criterion": "cosine", "threshold": 0.9}, True),
    ("early_exit_on_mor_checkpoint", "mor_expert", "early-exit", {"criterion": "top2_margin", "threshold": 0.07}, True),
    ("mor_expert", "mor_expert", "mor", {}, True),
    ("mor_expert_sharing", "mor_expert", "mor", {"kv": "recursive_sharing"}, True),
    ("mor_expert_threshold0", "mor_expert", "mor", {"threshold": 0}, False),
    ("mor_expert_threshold07", "mor_expert", "mor", {"threshold": 0.7}, True),
    ("mor_expert_cycle_sharing", "mor_expert_cycle", "mor", {}, True),
    ("mor_expert_cycle_recursion_wise", "mor_expert_cycle", "mor", {"kv": "recursion_wise", "threshold": 0.45}, True),
    ("mor_expert_as_recursive", "mor_expert", "recursive", {}, False),
    ("mor_token", "mor_token", "mor", {}, True),
    ("mor_token_sharing", "mor_token", "mor", {"kv": "recursive_sharing"}, True),
    ("ut_act", "ut_act", "ut", {}, True),
    ("ut_act_max3", "ut_act", "ut", {"max_steps": 3}, True),
    ("ut_act_epsilon03", "ut_act", "ut", {"epsilon": 0.3}, True),
    ("ut_as_early_exit", "ut_act", "early-exit", {"criterion": "softmax_max", "threshold": 0.6}, True),
    ("recurrent_fixed", "recurrent", "recurrent", {}, False),
    ("recurrent_fixed_r2_seed9", "recurrent", "recurrent", {"steps": 2, "seed": 9}, False),
    ("recurrent_kl", "recurrent", "recurrent", {"criterion": "kl", "threshold": 0.2, "steps": 6}, True),
    ("recurrent_entropy_diff", "recurrent", "recurrent",
     {"criterion": "entropy_diff", "threshold": 0.05, "steps": 6}, True),
    ("recurrent_latent_diff", "recurrent", "recurrent",
     {"criterion": "latent_diff", "threshold": 0.7, "steps": 6}, True),
    ("recurrent_argmax_stable", "recurrent", "recurrent",
     {"criterion": "argmax_stable", "threshold": 1, "steps": 6, "min_steps": 3}, True),
]


def fmt(x: float) -> float:
    return float(f"{x:.6g}")


def case_json(model_name, arch_name, options, tokens, results):
    trace = []
    for r in results:
        trace.append({
            "depth": len(r.steps),
            "steps": [[b, l, rec, None if s is None else fmt(s)] for (b, l, rec), s in zip(r.steps, r.step_scores)],
            "exit": {k: (fmt(v) if isinstance(v, float) else v) for k, v in r.exit.items()},
            "router_probabilities": None if r.router_probs is None else [fmt(p) for p in r.router_probs],
            "halting": None if r.halting is None else [fmt(h) for h in r.halting],
            "margin": fmt(min((d.margin for d in r.decisions), default=1.0)),
        })
    return {
        "model": model_name, "arch": arch_name, "options": {k: str(v) for k, v in options.items()},
        "tokens": tokens,
        "logits": [[fmt(v) for v in r.logits.tolist()] for r in results],
        "logits_tolerance": 1e-3,
        "trace": trace,
        "min_margin": fmt(min(t["margin"] for t in trace)),
    }


def make_case(model, arch_name, options, varied, seed):
    for attempt in range(200):
        rnd = random.Random(seed * 1000 + attempt)
        tokens = [rnd.randrange(len(VOCAB)) for _ in range(LENGTH)]
        run_model, arch = resolve(model, arch_name, dict(options))
        results = run_sequence(run_model, arch, tokens)
        margin = min((d.margin for r in results for d in r.decisions), default=1.0)
        depths = {len(r.steps) for r in results}
        if margin >= MIN_MARGIN and (not varied or len(depths) > 1):
            return tokens, results
    raise SystemExit(f"{arch_name} {options}: no token sequence with decision margins >= {MIN_MARGIN}")


def check_hf(model):
    """Sanity: the vanilla fixture model is a plain HF Llama."""
    import tempfile

    from transformers import LlamaForCausalLM

    tokens = list(range(12))
    with tempfile.TemporaryDirectory() as d:
        model.save(d)
        hf = LlamaForCausalLM.from_pretrained(d, attn_implementation="eager").eval()
        with torch.no_grad():
            expected = hf(torch.tensor([tokens])).logits[0]
    got = torch.stack([r.logits for r in run_sequence(*resolve(model, "vanilla"), tokens)])
    err = float((got - expected).abs().max())
    if err > 1e-4:
        raise SystemExit(f"vanilla fixture model differs from transformers by {err}")


def main():
    torch.set_num_threads(1)
    ms = models()
    check_hf(ms["plain6"])
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    vocab = json.dumps({"type": "char", "chars": VOCAB, "unk_id": None, "bos_id": None, "eos_id": None}) + "\n"
    for name, model in ms.items():
        model.save(os.path.join(OUT, "models", name), torch.float32, {"char_vocab.json": vocab})
    os.makedirs(os.path.join(OUT, "cases"))
    for i, (case, model_name, arch_name, options, varied) in enumerate(CASES):
        tokens, results = make_case(ms[model_name], arch_name, options, varied, i)
        data = case_json(model_name, arch_name, options, tokens, results)
        with open(os.path.join(OUT, "cases", case + ".json"), "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
        depths = [t["depth"] for t in data["trace"]]
        print(f"{case:40s} depths {min(depths)}-{max(depths)} margin {data['min_margin']:.3g}")
    vectors = [{"seed": s, "position": t, "hidden_size": d, "std": std,
                "values": rng.initial_state(s, t, d, std).tolist()}  # exact float32 values
               for s, t, d, std in [(0, 0, 4, 1.0), (12345, 7, 4, 1.0), (5, 3, 24, 1.0), (2**64 - 1, 100, 8, 0.5)]]
    with open(os.path.join(OUT, "recurrent_rng.json"), "w") as f:
        json.dump({"vectors": vectors}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
