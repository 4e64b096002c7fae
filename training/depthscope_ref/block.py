"""The base block: exactly HF's LlamaDecoderLayer (pre-norm RMSNorm, RoPE, GQA, SwiGLU),
with optional per-loop LoRA deltas on its projections (relaxed recursion).

Attention is written so that the queries and the keys/values can come from different
sources: that is how every KV policy (recursion-wise, recursive sharing, propagate, latest)
is expressed in the parallel path, and how the incremental path attends over its caches.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


class LoraLinear(nn.Module):
    """y = x W^T (+ scaling * (x A_r^T) B_r^T for loop r). Names match the checkpoint:
    `<proj>.weight`, `<proj>.lora_A.{r}.weight` [rank, in], `<proj>.lora_B.{r}.weight` [out, rank]."""

    def __init__(self, in_features: int, out_features: int, loops: int = 0, rank: int = 0,
                 scaling: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.scaling = scaling
        if loops and rank:
            self.lora_A = nn.ModuleList(nn.Linear(in_features, rank, bias=False) for _ in range(loops))
            self.lora_B = nn.ModuleList(nn.Linear(rank, out_features, bias=False) for _ in range(loops))
        else:
            self.lora_A = None
            self.lora_B = None

    def forward(self, x: torch.Tensor, loop: int | None = None) -> torch.Tensor:
        y = F.linear(x, self.weight)
        if loop is not None and self.lora_A is not None and loop < len(self.lora_A):
            y = y + self.scaling * self.lora_B[loop](self.lora_A[loop](x))
        return y


def rope_tables(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin [..., len(positions), head_dim] for integer positions (HF's float32 recipe)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    freqs = positions.float()[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B, heads, T, hd]; cos/sin [T, hd] or [B, T, hd]."""
    if cos.dim() == 3:
        cos, sin = cos[:, None], sin[:, None]
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, loops: int, rank: int, targets: list[str]):
        super().__init__()
        d, hd = cfg.hidden_size, cfg.head_dim
        self.heads, self.kv_heads, self.head_dim = cfg.num_attention_heads, cfg.num_key_value_heads, hd

        def lin(name, i, o):
            return LoraLinear(i, o, loops if name in targets else 0, rank, cfg.lora_scaling)

        self.q_proj = lin("q_proj", d, self.heads * hd)
        self.k_proj = lin("k_proj", d, self.kv_heads * hd)
        self.v_proj = lin("v_proj", d, self.kv_heads * hd)
        self.o_proj = lin("o_proj", self.heads * hd, d)

    def query(self, a, cos, sin, loop):
        B, T, _ = a.shape
        q = self.q_proj(a, loop).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        return apply_rope(q, cos, sin)

    def key_value(self, a, cos, sin, loop):
        B, T, _ = a.shape
        k = self.k_proj(a, loop).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(a, loop).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        return apply_rope(k, cos, sin), v

    def attend(self, q, k, v, mask, loop, need_weights=False):
        """q [B,H,Tq,hd], k/v [B,Hkv,Tk,hd], mask bool broadcastable to [B,1,Tq,Tk] (True =
        may attend) or None (attend to all keys). Returns [B,Tq,d] (and the weights)."""
        groups = self.heads // self.kv_heads
        if groups > 1:
            k = k.repeat_interleave(groups, dim=1)
            v = v.repeat_interleave(groups, dim=1)
        B, H, Tq, hd = q.shape
        if need_weights:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(-1)
            out = weights @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            weights = None
        out = self.o_proj(out.transpose(1, 2).reshape(B, Tq, H * hd), loop)
        return out, weights


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig, loops: int, rank: int, targets: list[str]):
        super().__init__()
        d, f = cfg.hidden_size, cfg.intermediate_size

        def lin(name, i, o):
            return LoraLinear(i, o, loops if name in targets else 0, rank, cfg.lora_scaling)

        self.gate_proj = lin("gate_proj", d, f)
        self.up_proj = lin("up_proj", d, f)
        self.down_proj = lin("down_proj", f, d)

    def forward(self, x, loop):
        return self.down_proj(F.silu(self.gate_proj(x, loop)) * self.up_proj(x, loop), loop)


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, loops: int = 0, rank: int = 0, targets: list[str] = ()):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg, loops, rank, targets)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg, loops, rank, targets)

    def key_value(self, x, cos, sin, loop=None):
        """The K/V this layer stores for states x (RoPE applied): [B,Hkv,T,hd] each."""
        return self.self_attn.key_value(self.input_layernorm(x), cos, sin, loop)

    def forward(self, x, cos, sin, mask, loop=None, kv=None, need_weights=False):
        """One depth step for queries x [B,T,d]. kv = (k, v) to attend over instead of the
        queries' own K/V (KV policies); mask as in Attention.attend. Returns (x', (k, v), w)."""
        a = self.input_layernorm(x)
        q = self.self_attn.query(a, cos, sin, loop)
        if kv is None:
            kv = self.self_attn.key_value(a, cos, sin, loop)
        o, w = self.self_attn.attend(q, kv[0], kv[1], mask, loop, need_weights)
        x = x + o
        x = x + self.mlp(self.post_attention_layernorm(x), loop)
        return x, kv, w
