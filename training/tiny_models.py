"""Tiny random models of every architecture, for the reference tests and the parity fixtures.

Weights are drawn larger than a training init (std 0.25 instead of 0.02) so that next-token
distributions are peaked and confidence criteria have something to decide; router and
halting biases are chosen so that decisions go both ways within a short sequence.
"""
from __future__ import annotations

import torch

from depthscope_ref.config import ModelConfig
from depthscope_ref.model import DepthModel

VOCAB = [chr(c) for c in range(32, 32 + 40)]  # 40 printable characters


def base_config(layers=3, hidden=32, heads=4, kv_heads=2, ffn=48, tie=False, vocab=len(VOCAB),
                **extra) -> ModelConfig:
    return ModelConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=ffn,
                       num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                       rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=64,
                       tie_word_embeddings=tie, **extra)


def random_model(cfg: ModelConfig, seed: int, std: float = 0.25, bias: dict | None = None) -> DepthModel:
    """Random weights; norms drawn around 1; `bias` sets router/halting biases by tensor name."""
    g = torch.Generator().manual_seed(seed)
    model = DepthModel(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.zero_()
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))
        for name, value in (bias or {}).items():
            dict(model.named_parameters())[name].fill_(value)
    return model.eval()
