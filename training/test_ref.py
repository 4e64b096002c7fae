"""Tests of the reference: `python -m pytest training/test_ref.py -q` (from the repo root).

- a vanilla checkpoint is a plain HF LlamaForCausalLM (transformers loads it, logits agree);
- the parallel path equals the incremental path for every architecture and KV policy;
- the identities of issue 3 hold;
- the recurrent-depth random state is the documented generator.
"""
from __future__ import annotations

import os
import sys
import tempfile

import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from depthscope_ref import parallel, rng  # noqa: E402
from depthscope_ref.arch import OptionError, resolve  # noqa: E402
from depthscope_ref.incremental import run_sequence  # noqa: E402
from depthscope_ref.model import DepthModel  # noqa: E402
from tiny_models import base_config, random_model  # noqa: E402

torch.set_num_threads(1)
TOKENS = [3, 17, 5, 22, 9, 9, 31, 0, 14, 27, 8, 39, 2, 11]


def incremental_logits(model, arch, tokens=TOKENS):
    return torch.stack([r.logits for r in run_sequence(model, arch, tokens)])


def parallel_logits(model, arch, tokens=TOKENS):
    with torch.no_grad():
        out = parallel.forward(model, arch, torch.tensor([tokens]))
    return out.logits[0], out.depth[0]


def check_same(model, name, options=None, tokens=TOKENS):
    model, arch = resolve(model, name, options)
    results = run_sequence(model, arch, tokens)
    inc = torch.stack([r.logits for r in results])
    par, depth = parallel_logits(model, arch, tokens)
    assert torch.allclose(inc, par, atol=2e-5, rtol=1e-5), (inc - par).abs().max()
    assert [len(r.steps) for r in results] == depth.long().tolist()
    return results


# ---- HF parity -------------------------------------------------------------------------
@pytest.mark.parametrize("tie,kv", [(False, 2), (True, 4)])
def test_vanilla_is_a_plain_hf_llama(tie, kv):
    from transformers import LlamaForCausalLM

    model = random_model(base_config(tie=tie, kv_heads=kv), seed=1)
    with tempfile.TemporaryDirectory() as d:
        model.save(d)
        hf = LlamaForCausalLM.from_pretrained(d, attn_implementation="eager").eval()
    ids = torch.tensor([TOKENS])
    with torch.no_grad():
        expected = hf(ids).logits[0]
    got = incremental_logits(*resolve(model, "vanilla"))
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()


def test_save_load_roundtrip():
    cfg = base_config(layers=4, recursive={"num_recursion": 3, "sharing": "middle_cycle"},
                      relaxation={"lora_rank": 2, "lora_alpha": 4, "target_modules": ["q_proj", "down_proj"]},
                      mor={"type": "expert", "router_type": "linear", "router_func": "sigmoid", "threshold": 0.5})
    model = random_model(cfg, seed=2)
    with tempfile.TemporaryDirectory() as d:
        model.save(d)
        again = DepthModel.load(d)
    for (n1, a), (n2, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert n1 == n2 and torch.equal(a, b)
    assert "model.layers.1.self_attn.q_proj.lora_A.2.weight" in again.state_dict()
    assert "model.mor_router.1.bias" in again.state_dict()


# ---- parallel == incremental -------------------------------------------------------------
def test_fixed_schedules():
    for sharing in ("cycle", "sequence", "middle_cycle"):
        cfg = base_config(layers=3, recursive={"num_recursion": 2, "sharing": sharing})
        check_same(random_model(cfg, seed=3), "recursive")
    cfg = base_config(layers=4, recursive={"num_recursion": 3, "sharing": "middle_cycle"},
                      relaxation={"lora_rank": 3, "lora_alpha": 6})
    check_same(random_model(cfg, seed=4), "relaxed")


def mor_model(kind, seed, bias=0.0):
    cfg = base_config(layers=4, recursive={"num_recursion": 3, "sharing": "middle_cycle"},
                      mor={"type": kind, "router_type": "linear",
                           "router_func": "sigmoid" if kind == "expert" else "softmax", "threshold": 0.5})
    b = {"model.mor_router.0.bias": bias, "model.mor_router.1.bias": bias} if kind == "expert" else None
    return random_model(cfg, seed=seed, bias=b)


@pytest.mark.parametrize("kv", ["recursion_wise", "recursive_sharing"])
def test_mor_expert(kv):
    res = check_same(mor_model("expert", 5), "mor", {"kv": kv, "threshold": 0.5})
    depths = {len(r.steps) for r in res}
    assert len(depths) > 1, "routing should differ between tokens in this fixture"


@pytest.mark.parametrize("kv", ["recursion_wise", "recursive_sharing"])
def test_mor_token(kv):
    res = check_same(mor_model("token", 6), "mor", {"kv": kv})
    assert len({len(r.steps) for r in res}) > 1


@pytest.mark.parametrize("criterion,threshold", [("softmax_max", 0.3), ("top2_margin", 0.2), ("cosine", 0.8),
                                                 ("kl", 0.5), ("argmax_stable", 1)])
@pytest.mark.parametrize("kv", ["propagate", "recursion_wise"])
def test_early_exit(criterion, threshold, kv):
    cfg = base_config(layers=6)
    res = check_same(random_model(cfg, seed=7), "early-exit",
                     {"criterion": criterion, "threshold": threshold, "kv": kv, "min_depth": 2})
    assert all(2 <= len(r.steps) <= 6 for r in res)


def test_act():
    cfg = base_config(layers=1, recursive={"num_recursion": 6, "sharing": "cycle"},
                      act={"max_steps": 6, "epsilon": 0.01})
    res = check_same(random_model(cfg, seed=8, bias={"model.act_halting.bias": -1.0}), "ut")
    assert len({len(r.steps) for r in res}) > 1


@pytest.mark.parametrize("criterion,threshold", [("none", 0), ("latent_diff", 0.5), ("kl", 0.05),
                                                 ("entropy_diff", 0.05), ("argmax_stable", 1)])
def test_recurrent(criterion, threshold):
    cfg = base_config(layers=4, recurrent_depth={
        "n_layers_in_prelude": 1, "n_layers_in_recurrent_block": 2, "n_layers_in_coda": 1,
        "mean_recurrence": 5, "max_recurrence": 8, "injection_type": "linear", "state_init": "normal",
        "state_init_std": 1.0, "state_init_seed": 7, "exit_criterion": "none"})
    check_same(random_model(cfg, seed=9), "recurrent", {"criterion": criterion, "threshold": threshold})


@pytest.mark.parametrize("init", ["stepwise", "average", "lower"])
def test_convert(init):
    model = random_model(base_config(layers=6), seed=10)
    check_same(model, "convert", {"recursions": 2, "init": init, "lora_rank": 4})
    check_same(model, "convert", {"recursions": 2, "sharing": "sequence", "init": init})
    check_same(model, "convert", {"recursions": 2, "sharing": "middle_cycle", "init": init, "lora_rank": 2})


# ---- identities --------------------------------------------------------------------------
def test_identities():
    model = random_model(base_config(layers=4), seed=11)
    vanilla = incremental_logits(*resolve(model, "vanilla"))
    assert torch.equal(incremental_logits(*resolve(model, "recursive", {"recursions": 1})), vanilla)
    assert torch.equal(incremental_logits(*resolve(model, "early-exit", {"criterion": "softmax_max",
                                                                          "threshold": 1.0})), vanilla)
    first2 = random_model(base_config(layers=2), seed=0)
    first2.load_state_dict({k: v for k, v in model.state_dict().items()
                            if not k.startswith(("model.layers.2.", "model.layers.3."))})
    converted = incremental_logits(*resolve(model, "convert", {"recursions": 1, "layers": 2, "init": "lower"}))
    assert torch.equal(converted, incremental_logits(*resolve(first2, "vanilla")))
    # convert with full-rank SVD LoRA reproduces the original model
    mha = random_model(base_config(layers=4, kv_heads=4), seed=15)
    with torch.no_grad():  # norms are not LoRA targets: make them equal so the identity is exact
        for name, p in mha.named_parameters():
            if "layernorm" in name:
                p.fill_(1.0)
    full = incremental_logits(*resolve(mha, "convert", {"recursions": 2, "lora_rank": 32}))
    assert torch.allclose(full, incremental_logits(*resolve(mha, "vanilla")), atol=1e-4)


def test_mor_threshold_zero_is_full_recursion():
    model = mor_model("expert", 12)
    res = run_sequence(*resolve(model, "mor", {"threshold": 0.0}), TOKENS)
    assert all(len(r.steps) == 8 and r.exit["reason"] == "full_depth" for r in res)


def test_recurrent_none_is_fixed_loops():
    cfg = base_config(layers=3, recurrent_depth={
        "n_layers_in_prelude": 1, "n_layers_in_recurrent_block": 1, "n_layers_in_coda": 1,
        "mean_recurrence": 3, "exit_criterion": "none"})
    res = run_sequence(*resolve(random_model(cfg, seed=13), "recurrent", {"steps": 4}), TOKENS)
    assert all(len(r.steps) == 1 + 4 + 1 for r in res)


def test_bad_options_are_one_line_errors():
    model = random_model(base_config(layers=4), seed=14)
    for name, opts in [("nope", {}), ("recursive", {"recursions": 0}), ("mor", {}),
                       ("early-exit", {"threshold": 2.0}), ("early-exit", {"criterion": "x"}),
                       ("convert", {"recursions": 3}), ("recursive", {"bogus": 1}), ("ut", {})]:
        with pytest.raises(OptionError) as e:
            resolve(model, name, opts)
        assert "\n" not in str(e.value)


def test_rng_vector():
    # values quoted in docs/architectures.md section 7 / the fixture recurrent_rng.json
    got = [rng.initial_state(0, 0, 4, 1.0)[e].item() for e in range(4)]
    assert got == pytest.approx([-0.45275774598121643, 2.6506059169769287, -0.9886041283607483,
                                 0.2524627149105072], abs=0)
