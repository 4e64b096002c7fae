"""The weights of a depthscope model, named exactly as the checkpoint names them
(docs/architectures.md section 1.2), with loading and saving of HF-style folders."""
from __future__ import annotations

import json
import os

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .block import DecoderLayer, RMSNorm, rope_tables
from .config import ModelConfig


class Backbone(nn.Module):
    """`model.*`: embeddings, stored layers, final norm and the adaptive-depth extras."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.hidden_size
        self.embed_tokens = nn.Embedding(cfg.vocab_size, d)
        shared = set(cfg.shared_layers()) if cfg.relaxation else set()
        loops, rank, targets = cfg.num_recursion, cfg.lora_rank, cfg.lora_targets
        self.layers = nn.ModuleList(
            DecoderLayer(cfg, loops if i in shared else 0, rank, targets)
            for i in range(cfg.num_hidden_layers)
        )
        self.norm = RMSNorm(d, cfg.rms_norm_eps)
        if cfg.mor:
            if cfg.mor["type"] == "expert":
                self.mor_router = nn.ModuleList(nn.Linear(d, 1) for _ in range(cfg.num_recursion - 1))
            else:
                self.mor_router = nn.Linear(d, cfg.num_recursion)
        if cfg.act:
            self.act_halting = nn.Linear(d, 1)
        if cfg.recurrent_depth:
            self.adapter = nn.Linear(2 * d, d, bias=False)


class DepthModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.model = Backbone(cfg)
        self.lm_head = None if cfg.tie_word_embeddings else nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    # ---- pieces every architecture uses ---------------------------------------------
    def head_weight(self) -> torch.Tensor:
        return self.model.embed_tokens.weight if self.lm_head is None else self.lm_head.weight

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Final norm and head (also the logit lens of any step)."""
        return self.model.norm(h) @ self.head_weight().T

    def rope(self, positions: torch.Tensor):
        return rope_tables(positions, self.cfg.head_dim, self.cfg.rope_theta)

    # ---- initialisation ---------------------------------------------------------------
    def init_weights(self, generator: torch.Generator, std: float = 0.02):
        """GPT-2 style: normal(0, std) matrices, output projections scaled down by depth,
        norms at 1, LoRA B at zero (a relaxed model starts as a plain recursive one)."""
        depth = max(1, len(self.model.layers) * self.cfg.num_recursion)
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name == "model.norm.weight":
                nn.init.ones_(p)
            elif ".lora_B." in name:
                nn.init.zeros_(p)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                nn.init.normal_(p, 0.0, std / (2 * depth) ** 0.5, generator=generator)
            else:
                nn.init.normal_(p, 0.0, std, generator=generator)

    # ---- checkpoints ------------------------------------------------------------------
    def export_state(self, dtype=torch.float32) -> dict[str, torch.Tensor]:
        out = {}
        for name, t in self.state_dict().items():
            out[name] = t.detach().to(dtype).contiguous()
        return out

    def save(self, folder: str, dtype=torch.float32, extra_files: dict | None = None):
        os.makedirs(folder, exist_ok=True)
        name = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}[dtype]
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(self.cfg.to_hf_dict(name), f, indent=2)
            f.write("\n")
        save_file(self.export_state(dtype), os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        for file, content in (extra_files or {}).items():
            with open(os.path.join(folder, file), "w") as f:
                f.write(content)

    @classmethod
    def load(cls, folder: str) -> "DepthModel":
        cfg = ModelConfig.load(os.path.join(folder, "config.json"))
        model = cls(cfg)
        tensors = load_file(os.path.join(folder, "model.safetensors"))
        model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True)
        return model.eval()
