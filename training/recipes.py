"""The recipes of the shipped models: architecture, size, data and training schedule.

The five Shakespeare models share one budget: the same tokens (steps x batch x context,
same data order for a given seed) and about the same training compute per token (about 6
layer applications per token on average). See models/README.md for what came out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from depthscope_ref.config import ModelConfig

# The Shakespeare budget (identical for all five).
SHAKESPEARE_BASE = dict(hidden_size=128, intermediate_size=384, num_attention_heads=4,
                        num_key_value_heads=4, head_dim=32, rms_norm_eps=1e-5, rope_theta=10000.0,
                        max_position_embeddings=256, tie_word_embeddings=False)
SHAKESPEARE_TRAIN = dict(steps=1000, batch=32, context=256, lr=2e-3, warmup=100, min_lr_ratio=0.1,
                         weight_decay=0.1, eval_every=200)


@dataclass
class Recipe:
    name: str
    data: str                    # "text" or "arith"
    config: dict                 # ModelConfig fields except vocab_size
    train_arch: str              # architecture name used in training (parallel path)
    train: dict                  # steps, batch, context, lr, ...
    extras: dict = field(default_factory=dict)   # policy-specific training knobs
    description: str = ""

    def model_config(self, vocab_size: int) -> ModelConfig:
        return ModelConfig(vocab_size=vocab_size, **self.config)


def _shakespeare(name, layers, description, train_arch, extras=None, **objects):
    cfg = dict(SHAKESPEARE_BASE, num_hidden_layers=layers, **objects)
    return Recipe(name, "text", cfg, train_arch, dict(SHAKESPEARE_TRAIN), extras or {}, description)


RECIPES = {
    r.name: r for r in [
        _shakespeare(
            "shakespeare-mor", 4,
            "Mixture-of-Recursions, expert-choice: first and last layer unique, 2 shared layers "
            "looped 3 times (middle-cycle); sigmoid routers trained with top-k capacity [1, 2/3, 1/3] "
            "and MoR's auxiliary BCE loss so that score >= 0.5 is the decode-time decision.",
            "mor", {"capacity": [1.0, 2 / 3, 1 / 3], "aux_loss": 0.1},
            recursive={"num_recursion": 3, "sharing": "middle_cycle"},
            mor={"type": "expert", "router_type": "linear", "router_func": "sigmoid", "threshold": 0.5,
                 "kv_sharing": False, "capacity": [1.0, 0.6667, 0.3333]}),
        _shakespeare(
            "shakespeare-mor-token", 4,
            "Mixture-of-Recursions, token-choice: one softmax router picks 1-3 recursions of the "
            "2 shared layers up front (middle-cycle); MoR's balancing loss.",
            "mor", {"aux_loss": 0.1},
            recursive={"num_recursion": 3, "sharing": "middle_cycle"},
            mor={"type": "token", "router_type": "linear", "router_func": "softmax", "kv_sharing": False}),
        _shakespeare(
            "shakespeare-recursive", 4,
            "Relaxed recursive transformer: first and last layer unique, 2 shared layers looped "
            "twice (middle-cycle) with a rank-8 LoRA per loop on every projection.",
            "relaxed",
            recursive={"num_recursion": 2, "sharing": "middle_cycle"},
            relaxation={"lora_rank": 8, "lora_alpha": 8,
                        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                           "down_proj"]}),
        _shakespeare(
            "shakespeare-vanilla", 6,
            "Vanilla 6-layer Llama trained with a LayerSkip-style early-exit loss at every layer "
            "(shared final norm and head), so early exit and the logit lens are meaningful.",
            "vanilla", {"exit_loss": 0.5},
            early_exit={"criterion": "softmax_max", "threshold": 0.9, "min_depth": 1, "max_depth": None,
                        "kv_policy": "propagate"}),
        _shakespeare(
            "shakespeare-recurrent", 4,
            "Recurrent depth (Huginn-style): 1 prelude layer, a 2-layer core looped r times with "
            "input injection from a random state, 1 coda layer; r ~ 1 + Poisson(1.5) per batch "
            "(at most 6) with backpropagation through the last 2 loops.",
            "recurrent", {"mean_extra_loops": 1.5, "max_loops": 6, "backprop_depth": 2},
            recurrent_depth={"n_layers_in_prelude": 1, "n_layers_in_recurrent_block": 2, "n_layers_in_coda": 1,
                             "mean_recurrence": 4, "max_recurrence": 32, "injection_type": "linear",
                             "state_init": "normal", "state_init_std": 1.0, "state_init_seed": 0,
                             "exit_criterion": "kl", "exit_threshold": 0.01}),
        Recipe(
            "arith-ut", "arith",
            dict(hidden_size=128, intermediate_size=384, num_attention_heads=4, num_key_value_heads=4,
                 head_dim=32, rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=64,
                 tie_word_embeddings=False, num_hidden_layers=1,
                 recursive={"num_recursion": 8, "sharing": "cycle"},
                 act={"max_steps": 8, "epsilon": 0.01}),
            "ut", dict(steps=2000, batch=64, context=64, lr=2e-3, warmup=100, min_lr_ratio=0.1,
                       weight_decay=0.1, eval_every=500),
            {"ponder_cost": 0.01, "halting_bias": -1.0},
            "Universal Transformer with ACT: one shared layer applied up to 8 times per token, "
            "halting when the cumulative sigmoid reaches 0.99; trained on additions of 1-4 digit "
            "numbers written `a+b=` followed by the sum least-significant digit first."),
    ]
}
