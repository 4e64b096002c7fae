"""Whole sequences at once: the path used for training and evaluation.

With inference semantics (`train=False`) every function here computes exactly what
incremental.py computes token by token (training/test_ref.py checks it): decisions are per
token and causal, so they can be taken step by step for all positions together, and every
KV policy becomes a choice of keys/values and of an attention mask.

Training extras (`train=True`): MoR expert-choice selects the top-k tokens per recursion
(capacity) and returns MoR's auxiliary BCE router loss; token-choice returns the balancing
loss; early exit returns every step's logits (LayerSkip); ACT returns the ponder cost;
recurrent depth runs a given loop count with truncated backpropagation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from . import rng
from .arch import Arch


@dataclass
class Output:
    logits: torch.Tensor                  # [B, T, V]
    depth: torch.Tensor                   # [B, T] steps executed per token (float)
    aux_loss: torch.Tensor | None = None  # router / balancing / ponder loss (training)
    step_logits: list = field(default_factory=list)  # LayerSkip: logits after every step
    stats: dict = field(default_factory=dict)


def causal_mask(T: int) -> torch.Tensor:
    return torch.ones(T, T, dtype=torch.bool).tril()


def key_mask(keys_ok: torch.Tensor) -> torch.Tensor:
    """Causal mask where only keys with keys_ok [B, T] are visible (each query sees itself)."""
    T = keys_ok.shape[1]
    eye = torch.eye(T, dtype=torch.bool)
    return ((causal_mask(T) & keys_ok[:, None, :]) | eye)[:, None]


def forward(model, arch: Arch, ids: torch.Tensor, train: bool = False, **kw) -> Output:
    return globals()["_" + arch.policy](model, arch, ids, train=train, **kw)


def _embed(model, ids):
    B, T = ids.shape
    cos, sin = model.rope(torch.arange(T))
    return model.model.embed_tokens(ids), cos, sin, causal_mask(T)


def _layer(model, st):
    return model.model.layers[st.layer]


def _fixed(model, arch, ids, train=False, step_logits=False):
    h, cos, sin, mask = _embed(model, ids)
    outs = []
    for st in arch.schedule.steps:
        h, _, _ = _layer(model, st)(h, cos, sin, mask, st.lora)
        if step_logits:
            outs.append(model.logits(h))
    n = len(arch.schedule.steps)
    return Output(outs[-1] if outs else model.logits(h), torch.full(ids.shape, float(n)), step_logits=outs)


def _run_block(model, arch, sched, r, y, cos, sin, mask, kv0):
    """Recursion block r on states y; kv0 holds recursion 0's K/V per position in the block."""
    for i, s in enumerate(sched.blocks[r]):
        st = sched.steps[s]
        if arch.kv == "recursive_sharing" and r > 0:
            y, _, _ = _layer(model, st)(y, cos, sin, kv0["mask"], st.lora, kv=kv0[i])
        else:
            y, kv, _ = _layer(model, st)(y, cos, sin, mask, st.lora)
            if r == 0:
                kv0[i] = kv
    return y


def _mor_expert(model, arch, ids, train=False, capacity=None):
    """Inference: continue iff score >= threshold. Training (capacity given): MoR top-k."""
    sched = arch.schedule
    h, cos, sin, mask = _embed(model, ids)
    B, T = ids.shape
    for s in sched.pre:
        h, _, _ = _layer(model, sched.steps[s])(h, cos, sin, mask, sched.steps[s].lora)
    kv0 = {"mask": mask}
    h = _run_block(model, arch, sched, 0, h, cos, sin, mask, kv0)
    K = len(sched.blocks[0])
    depth = torch.full((B, T), float(len(sched.pre) + len(sched.post) + K))
    aux = h.new_zeros(())
    if train and capacity is not None:
        h, depth, aux = _mor_expert_topk(model, arch, h, cos, sin, kv0, depth, capacity)
    else:
        active = torch.ones(B, T, dtype=torch.bool)
        for j in range(len(sched.blocks) - 1):
            score = torch.sigmoid(model.model.mor_router[j](h))           # [B, T, 1]
            go = active & (score[..., 0] >= arch.threshold)
            m = key_mask(go) if arch.kv == "recursion_wise" else mask
            y = _run_block(model, arch, sched, j + 1, h, cos, sin, m, kv0)
            h = torch.where(go[..., None], h + score * (y - h), h)
            depth = depth + go.float() * K
            active = go
    for s in sched.post:
        h, _, _ = _layer(model, sched.steps[s])(h, cos, sin, mask, sched.steps[s].lora)
    return Output(model.logits(h), depth, aux)


def _mor_expert_topk(model, arch, h, cos, sin, kv0, depth, capacity):
    """MoR training: router j picks the top capacity[j+1]*T tokens among those still active;
    selected tokens are gathered (in position order) and run as a shorter sequence. The BCE
    auxiliary loss teaches sigmoid(router) >= 0.5 to predict the selection."""
    sched = arch.schedule
    B, T, d = h.shape
    K = len(sched.blocks[0])
    idx = torch.arange(T).expand(B, T)                          # active positions, sorted
    aux = h.new_zeros(())
    for j in range(len(sched.blocks) - 1):
        x_act = h.gather(1, idx[..., None].expand(-1, -1, d))
        logit = model.model.mor_router[j](x_act)[..., 0]         # [B, n]
        k = max(1, min(idx.shape[1], int(round(capacity[j + 1] * T))))
        top = torch.topk(logit, k, dim=1).indices.sort(dim=1).values
        target = torch.zeros_like(logit).scatter(1, top, 1.0)
        aux = aux + F.binary_cross_entropy_with_logits(logit, target)
        sel = idx.gather(1, top)                                  # [B, k] positions
        score = torch.sigmoid(logit.gather(1, top))[..., None]
        x = h.gather(1, sel[..., None].expand(-1, -1, d))
        c, s_ = cos[sel], sin[sel]
        if arch.kv == "recursive_sharing":
            kv_sel = dict(kv0)
            kv_sel["mask"] = (torch.arange(T)[None, None, :] <= sel[:, :, None])[:, None]
            y = _run_block(model, arch, sched, j + 1, x, c, s_, None, kv_sel)
        else:
            y = _run_block(model, arch, sched, j + 1, x, c, s_, causal_mask(k), kv0)
        h = h.scatter(1, sel[..., None].expand(-1, -1, d), x + score * (y - x))
        depth = depth.scatter_add(1, sel, torch.full(sel.shape, float(K)))
        idx = sel
    return h, depth, aux


def _mor_token(model, arch, ids, train=False, **_):
    sched = arch.schedule
    R = len(sched.blocks)
    h, cos, sin, mask = _embed(model, ids)
    for s in sched.pre:
        h, _, _ = _layer(model, sched.steps[s])(h, cos, sin, mask, sched.steps[s].lora)
    p = torch.softmax(model.model.mor_router(h), dim=-1)         # [B, T, R]
    n = p.argmax(-1) + 1                                          # recursions per token
    y, kv0 = h, {"mask": mask}
    for r in range(R):
        active = n > r
        m = key_mask(active) if arch.kv == "recursion_wise" else mask
        y_new = _run_block(model, arch, sched, r, y, cos, sin, m, kv0)
        y = torch.where(active[..., None], y_new, y)
    pn = p.gather(-1, (n - 1)[..., None])
    h = h + pn * (y - h)
    for s in sched.post:
        h, _, _ = _layer(model, sched.steps[s])(h, cos, sin, mask, sched.steps[s].lora)
    K = len(sched.blocks[0])
    depth = (len(sched.pre) + len(sched.post) + K * n).float()
    aux = None
    if train:  # MoR's balancing loss: R * sum_i P_i f_i
        P = p.mean(dim=(0, 1))
        f = F.one_hot(n - 1, R).float().mean(dim=(0, 1))
        aux = R * (P * f).sum()
    return Output(model.logits(h), depth, aux, stats={"depth_fractions": F.one_hot(n - 1, R).float().mean((0, 1))})


def _criterion(arch, d, h, prev_h, logp, prev_logp, run):
    """Early-exit criterion value per token (None where it is not defined at this step)."""
    c = arch.criterion
    if c == "softmax_max":
        return logp.exp().max(-1).values, run
    if c == "top2_margin":
        top = torch.topk(logp.exp(), 2, dim=-1).values
        return top[..., 0] - top[..., 1], run
    if c == "argmax_stable":
        if d == 1:
            run = torch.ones(h.shape[:-1])
        else:
            run = torch.where(logp.argmax(-1) == prev_logp.argmax(-1), run + 1, torch.ones_like(run))
        return run, run
    if d == 1:
        return None, run
    if c == "cosine":
        return F.cosine_similarity(h, prev_h, dim=-1), run
    if c == "kl":
        return (logp.exp() * (logp - prev_logp)).sum(-1), run
    raise ValueError(c)


def _early_exit(model, arch, ids, train=False, **_):
    steps = arch.schedule.steps
    h, cos, sin, mask = _embed(model, ids)
    B, T = ids.shape
    exited = torch.zeros(B, T, dtype=torch.bool)
    h_exit = h.clone()
    depth = torch.zeros(B, T)
    prev_h, prev_logp, run = h, None, None
    for d, st in enumerate(steps, start=1):
        layer = _layer(model, st)
        if arch.kv == "propagate":
            kv = layer.key_value(torch.where(exited[..., None], h_exit, h), cos, sin, st.lora)
            h_new, _, _ = layer(h, cos, sin, mask, st.lora, kv=kv)
        else:
            h_new, _, _ = layer(h, cos, sin, key_mask(~exited), st.lora)
        h = torch.where(exited[..., None], h, h_new)
        depth = depth + (~exited).float()
        logp = torch.log_softmax(model.logits(h), dim=-1)
        value, run = _criterion(arch, d, h, prev_h, logp, prev_logp, run)
        now = torch.zeros_like(exited)
        if value is not None and d >= arch.min_depth:
            now = value > arch.threshold if arch.greater else value < arch.threshold
        if d == arch.max_depth:
            now = torch.ones_like(exited)
        new = now & ~exited
        h_exit = torch.where(new[..., None], h, h_exit)
        exited = exited | new
        prev_h, prev_logp = h, logp
        if bool(exited.all()):
            break
    return Output(model.logits(h_exit), depth)


def _act(model, arch, ids, train=False, **_):
    sched = arch.schedule
    h, cos, sin, mask = _embed(model, ids)
    B, T = ids.shape
    halted = torch.zeros(B, T, dtype=torch.bool)
    c = h.new_zeros(B, T)
    out = torch.zeros_like(h)
    depth = torch.zeros(B, T)
    ponder = h.new_zeros(B, T)
    limit = 1.0 - arch.epsilon
    for n in range(1, arch.max_steps + 1):
        for s in sched.blocks[n - 1]:
            st = sched.steps[s]
            layer = _layer(model, st)
            kv = layer.key_value(torch.where(halted[..., None], out, h), cos, sin, st.lora)
            h_new, _, _ = layer(h, cos, sin, mask, st.lora, kv=kv)
            h = torch.where(halted[..., None], h, h_new)
            depth = depth + (~halted).float()
        p = torch.sigmoid(model.model.act_halting(h))[..., 0]
        cum = c + p
        new = ~halted & ((cum >= limit) | (n == arch.max_steps))
        running = ~halted & ~new
        w = torch.where(new, 1.0 - c, torch.where(running, p, torch.zeros_like(p)))
        out = out + w[..., None] * h
        ponder = ponder + torch.where(new, n + (1.0 - c), torch.zeros_like(c))
        c = torch.where(running, cum, c)
        halted = halted | new
        if bool(halted.all()):
            break
    return Output(model.logits(out), depth, ponder.mean() if train else None,
                  stats={"ponder": ponder})


def _recurrent(model, arch, ids, train=False, steps=None, backprop_depth=None, **_):
    """Prelude, core x steps with input injection, coda; the `latest` KV policy."""
    cfg = model.cfg
    rd = cfg.recurrent_depth
    P, C, D = rd["n_layers_in_prelude"], rd["n_layers_in_recurrent_block"], rd["n_layers_in_coda"]
    layers = model.model.layers
    x, cos, sin, mask = _embed(model, ids)
    B, T, d = x.shape
    for j in range(P):
        x, _, _ = layers[j](x, cos, sin, mask)
    e = x
    s = rng.initial_states(arch.seed, T, d, float(rd.get("state_init_std", 1.0)))[None].expand(B, T, d)
    r = steps or arch.steps
    every = arch.criterion != "none" and not train
    exited = torch.zeros(B, T, dtype=torch.bool)
    kv_core, kv_coda = {}, {}
    logits = None
    prev_logp, run = None, None
    depth = torch.zeros(B, T)
    no_grad_loops = r - backprop_depth if (train and backprop_depth) else 0

    def latest(layer, y, store, j):
        """One step under `latest`: exited tokens keep the K/V of their last loop."""
        k, v = layer.key_value(y, cos, sin)
        if j in store:
            keep = exited[:, None, :, None]
            k = torch.where(keep, store[j][0], k)
            v = torch.where(keep, store[j][1], v)
        store[j] = (k, v)
        y, _, _ = layer(y, cos, sin, mask, kv=(k, v))
        return y

    for i in range(1, r + 1):
        with torch.set_grad_enabled(torch.is_grad_enabled() and i > no_grad_loops):
            y = model.model.adapter(torch.cat([s, e], dim=-1))
            for j in range(P, P + C):
                y = latest(layers[j], y, kv_core, j)
            prev_s, s = s, torch.where(exited[..., None], s, y)
            depth = depth + (~exited).float() * C
            if not (every or i == r):
                continue
            o = s
            for j in range(P + C, P + C + D):
                o = latest(layers[j], o, kv_coda, j)
            depth = depth + (~exited).float() * D
            logits_i = model.logits(o)
            logits = logits_i if logits is None else torch.where(exited[..., None], logits, logits_i)
            if not every:
                continue
            logp = torch.log_softmax(logits_i, dim=-1)
            value = None
            if arch.criterion == "latent_diff":
                value = (s - prev_s).norm(dim=-1) / s.norm(dim=-1)
            elif arch.criterion == "argmax_stable":
                run = torch.ones(B, T) if i == 1 else torch.where(
                    logp.argmax(-1) == prev_logp.argmax(-1), run + 1, torch.ones_like(run))
                value = run
            elif i > 1 and arch.criterion == "kl":
                value = (logp.exp() * (logp - prev_logp)).sum(-1)
            elif i > 1 and arch.criterion == "entropy_diff":
                ent = lambda lp: -(lp.exp() * lp).sum(-1)
                value = (ent(logp) - ent(prev_logp)).abs()
            if i > 1 and i >= arch.min_steps and value is not None:
                passes = value > arch.threshold if arch.greater else value < arch.threshold
                exited = exited | passes
            prev_logp = logp
            if bool(exited.all()):
                break
        if i == no_grad_loops:
            s = s.detach()
    depth = depth + P
    return Output(logits, depth)
