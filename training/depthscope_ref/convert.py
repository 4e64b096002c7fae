"""Convert a vanilla checkpoint into a (relaxed) recursive one at load time
(Relaxed Recursive Transformers: stepwise / average / lower init, SVD LoRA; section 3.4)."""
from __future__ import annotations

import copy

import torch

from .config import ModelConfig


def corresponding_layer(sharing: str, r: int, k: int, K: int, R: int) -> int:
    """Index in the shared segment of the original layer that step (r, k) stands for."""
    return k * R + r if sharing == "sequence" else r * K + k


def convert(model, sharing: str, R: int, K: int, init: str, rank: int, targets: list[str]):
    from .model import DepthModel

    cfg = model.cfg
    n = cfg.num_hidden_layers
    offset = 1 if sharing == "middle_cycle" else 0
    M = n - 2 if sharing == "middle_cycle" else n
    orig = model.model.layers
    seg = [orig[offset + i].state_dict() for i in range(M)]

    new_cfg = copy.deepcopy(cfg)
    new_cfg.num_hidden_layers = K + 2 * offset
    new_cfg.recursive = {"num_recursion": R, "sharing": sharing}
    new_cfg.mor = new_cfg.act = new_cfg.recurrent_depth = None
    new_cfg.relaxation = {"lora_rank": rank, "lora_alpha": rank, "target_modules": targets} if rank else None
    out = DepthModel(new_cfg)
    sd = out.state_dict()
    for name in ("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"):
        if name in sd:
            sd[name] = model.state_dict()[name].clone()
    if offset:
        for src, dst in ((0, 0), (n - 1, K + 1)):
            for key, t in orig[src].state_dict().items():
                sd[f"model.layers.{dst}.{key}"] = t.clone()

    for k in range(K):
        if init == "lower":
            shared = {key: t.clone() for key, t in seg[k].items()}
        elif init == "stepwise":
            shared = {key: t.clone() for key, t in seg[(k * M) // K].items()}
        else:  # average over the layers this shared layer stands for
            members = [c for r in range(R) if (c := corresponding_layer(sharing, r, k, K, R)) < M] or [k]
            shared = {key: torch.stack([seg[c][key] for c in members]).mean(0) for key in seg[k]}
        for key, t in shared.items():
            sd[f"model.layers.{k + offset}.{key}"] = t
        if not rank:
            continue
        for r in range(R):
            c = corresponding_layer(sharing, r, k, K, R)
            for key, t in shared.items():
                proj = key.rsplit(".", 1)[0]  # self_attn.q_proj
                if not key.endswith("_proj.weight") or proj.split(".")[-1] not in targets:
                    continue
                base = f"model.layers.{k + offset}.{proj}"
                if c < M:
                    a, b = svd_lora(seg[c][key] - t, rank)
                else:  # no original layer stands here: no delta
                    a = torch.zeros(rank, t.shape[1])
                    b = torch.zeros(t.shape[0], rank)
                sd[f"{base}.lora_A.{r}.weight"] = a
                sd[f"{base}.lora_B.{r}.weight"] = b
    out.load_state_dict(sd, strict=True)
    return out.eval()


def svd_lora(delta: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Best rank-r approximation delta ~ B A with B = U_r S_r, A = V_r^T (float64 SVD)."""
    u, s, vh = torch.linalg.svd(delta.double(), full_matrices=False)
    rank = min(rank, s.shape[0])
    b = (u[:, :rank] * s[:rank]).float()
    a = vh[:rank].float()
    return a, b
