"""Token-by-token inference with per-step KV caches: the ground truth for the fixtures.

Written for clarity, not speed: one token at a time, one step at a time, every cache a dict
of position -> (k, v). Each policy is one method, read top to bottom it is the spec
(docs/architectures.md sections 4 and 5).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from . import rng
from .arch import Arch


@dataclass
class Decision:
    """One comparison a policy made; `margin` says how far it was from flipping."""
    kind: str          # "threshold" (value vs threshold) or "argmax" (top-1 vs top-2)
    value: float
    threshold: float | None
    margin: float      # relative distance to the decision boundary


@dataclass
class TokenResult:
    logits: torch.Tensor                       # [V] next-token logits
    steps: list[tuple[str, int, int]]          # (block, stored layer, recursion) executed
    step_scores: list[float | None]            # the policy's score after each step
    exit: dict                                 # reason, criterion, score, threshold, steps, max_steps
    router_probs: list[float] | None = None
    halting: list[float] | None = None         # ACT: cumulative halting probability per ACT step
    decisions: list[Decision] = field(default_factory=list)


def _threshold_margin(value: float, threshold: float) -> float:
    return abs(value - threshold) / max(abs(threshold), 1e-2)


def _argmax_margin(p: torch.Tensor) -> float:
    top = torch.topk(p, 2).values
    return float((top[0] - top[1]) / top[0])


class Session:
    def __init__(self, model, arch: Arch):
        self.model = model
        self.arch = arch
        self.layers = model.model.layers
        self.t = 0
        self.caches: dict = {}

    # ---- attention over the caches -------------------------------------------------
    def _rope(self):
        return self.model.rope(torch.tensor([self.t]))

    def _run(self, layer: int, x: torch.Tensor, lora, key) -> torch.Tensor:
        """A plain step: attend over earlier tokens' entries of cache `key` plus our own."""
        cos, sin = self._rope()
        xb = x.view(1, 1, -1)
        k, v = self.layers[layer].key_value(xb, cos, sin, lora)
        entries = self.caches.setdefault(key, {})
        earlier = [entries[p] for p in sorted(entries) if p < self.t]
        ks = torch.cat([e[0] for e in earlier] + [k], dim=2)
        vs = torch.cat([e[1] for e in earlier] + [v], dim=2)
        y, _, _ = self.layers[layer](xb, cos, sin, None, lora, kv=(ks, vs))
        entries[self.t] = (k, v)
        return y.view(-1)

    def _run_shared(self, layer: int, x: torch.Tensor, lora, source_key) -> torch.Tensor:
        """Recursive KV sharing: attend over recursion 0's cache (own entry included); store nothing."""
        cos, sin = self._rope()
        entries = self.caches[source_key]
        mine = [entries[p] for p in sorted(entries) if p <= self.t]
        ks = torch.cat([e[0] for e in mine], dim=2)
        vs = torch.cat([e[1] for e in mine], dim=2)
        y, _, _ = self.layers[layer](x.view(1, 1, -1), cos, sin, None, lora, kv=(ks, vs))
        return y.view(-1)

    def _propagate(self, layer: int, state: torch.Tensor, lora, key):
        """CALM state propagation: a skipped step's K/V computed from the exit state."""
        cos, sin = self._rope()
        self.caches.setdefault(key, {})[self.t] = self.layers[layer].key_value(state.view(1, 1, -1), cos, sin, lora)

    def _run_latest(self, layer: int, x: torch.Tensor, loop: int, key) -> torch.Tensor:
        """Huginn latest: earlier tokens are read at their latest loop <= this loop."""
        cos, sin = self._rope()
        xb = x.view(1, 1, -1)
        k, v = self.layers[layer].key_value(xb, cos, sin, None)
        entries = self.caches.setdefault(key, {})
        earlier = []
        for p in sorted(entries):
            if p < self.t:
                loops = [i for i in entries[p] if i <= loop]
                earlier.append(entries[p][max(loops)])
        ks = torch.cat([e[0] for e in earlier] + [k], dim=2)
        vs = torch.cat([e[1] for e in earlier] + [v], dim=2)
        y, _, _ = self.layers[layer](xb, cos, sin, None, None, kv=(ks, vs))
        entries.setdefault(self.t, {})[loop] = (k, v)
        return y.view(-1)

    # ---- one token ---------------------------------------------------------------------
    @torch.no_grad()
    def step(self, token: int) -> TokenResult:
        policy = self.arch.policy
        h = self.model.model.embed_tokens.weight[token].clone()
        result = getattr(self, "_" + policy)(h)
        self.t += 1
        return result

    def _trace_step(self, s: int):
        st = self.arch.schedule.steps[s]
        return (st.block, st.layer, st.recursion)

    def _fixed(self, h):
        steps = self.arch.schedule.steps
        for s, st in enumerate(steps):
            h = self._run(st.layer, h, st.lora, s)
        n = len(steps)
        return TokenResult(self.model.logits(h), [self._trace_step(s) for s in range(n)], [None] * n,
                           {"reason": "full_depth", "criterion": None, "score": None, "threshold": None,
                            "steps": n, "max_steps": n})

    def _mor_expert(self, h):
        sched, thr = self.arch.schedule, self.arch.threshold
        routers = self.model.model.mor_router
        done, scores, decisions = [], [None] * len(sched.steps), []
        for s in sched.pre + sched.blocks[0]:
            h = self._run(sched.steps[s].layer, h, sched.steps[s].lora, s)
            done.append(s)
        probs, stopped = [], None
        for j in range(len(sched.blocks) - 1):
            score = torch.sigmoid(routers[j](h)).item()
            probs.append(score)
            scores[done[-1]] = score
            decisions.append(Decision("threshold", score, thr, _threshold_margin(score, thr)))
            if not score >= thr:
                stopped = score
                break
            y = h
            for i, s in enumerate(sched.blocks[j + 1]):
                st = sched.steps[s]
                if self.arch.kv == "recursive_sharing":
                    y = self._run_shared(st.layer, y, st.lora, sched.blocks[0][i])
                else:
                    y = self._run(st.layer, y, st.lora, s)
                done.append(s)
            h = h + torch.tensor(score, dtype=torch.float32) * (y - h)
        for s in sched.post:
            h = self._run(sched.steps[s].layer, h, sched.steps[s].lora, s)
            done.append(s)
        if stopped is not None:
            exit = {"reason": "router", "criterion": "sigmoid_router", "score": stopped, "threshold": thr}
        else:
            exit = {"reason": "full_depth", "criterion": "sigmoid_router" if probs else None,
                    "score": probs[-1] if probs else None, "threshold": thr if probs else None}
        exit.update(steps=len(done), max_steps=len(sched.steps))
        return TokenResult(self.model.logits(h), [self._trace_step(s) for s in done],
                           [scores[s] for s in done], exit, probs, None, decisions)

    def _mor_token(self, h):
        sched = self.arch.schedule
        done = []
        for s in sched.pre:
            h = self._run(sched.steps[s].layer, h, sched.steps[s].lora, s)
            done.append(s)
        p = torch.softmax(self.model.model.mor_router(h), dim=-1)
        n = int(torch.argmax(p)) + 1
        y = h
        for r in range(n):
            for i, s in enumerate(sched.blocks[r]):
                st = sched.steps[s]
                if self.arch.kv == "recursive_sharing" and r > 0:
                    y = self._run_shared(st.layer, y, st.lora, sched.blocks[0][i])
                else:
                    y = self._run(st.layer, y, st.lora, s)
                done.append(s)
        h = h + p[n - 1] * (y - h)
        for s in sched.post:
            h = self._run(sched.steps[s].layer, h, sched.steps[s].lora, s)
            done.append(s)
        scores = [None] * len(done)
        exit = {"reason": "router_choice", "criterion": "softmax_router", "score": float(p[n - 1]),
                "threshold": None, "steps": len(done), "max_steps": len(sched.steps)}
        return TokenResult(self.model.logits(h), [self._trace_step(s) for s in done], scores, exit,
                           p.tolist(), None, [Decision("argmax", float(p[n - 1]), None, _argmax_margin(p))])

    def _early_exit(self, h):
        a = self.arch
        steps = a.schedule.steps
        scores, decisions = [], []
        prev_h, prev_logp, run = h, None, 0
        exit = None
        for d, st in enumerate(steps, start=1):
            h = self._run(st.layer, h, st.lora, d - 1)
            logp = torch.log_softmax(self.model.logits(h), dim=-1)
            p = logp.exp()
            value = None
            if a.criterion == "softmax_max":
                value = float(p.max())
            elif a.criterion == "top2_margin":
                top = torch.topk(p, 2).values
                value = float(top[0] - top[1])
            elif a.criterion == "cosine" and d > 1:
                value = float(torch.nn.functional.cosine_similarity(h, prev_h, dim=0))
            elif a.criterion == "kl" and d > 1:
                value = float((p * (logp - prev_logp)).sum())
            elif a.criterion == "argmax_stable":
                same = d > 1 and int(torch.argmax(logp)) == int(torch.argmax(prev_logp))
                run = run + 1 if same else 1
                value = float(run)
                if d > 1:  # the argmax comparison itself must not be a near tie
                    decisions.append(Decision("argmax", float(p.max()), None, _argmax_margin(p)))
            scores.append(value)
            if d >= a.min_depth and value is not None:
                passes = value > a.threshold if a.greater else value < a.threshold
                if a.criterion != "argmax_stable":
                    decisions.append(Decision("threshold", value, a.threshold, _threshold_margin(value, a.threshold)))
                if passes:
                    exit = {"reason": "confidence", "criterion": a.criterion, "score": value, "threshold": a.threshold}
            if exit is None and d == a.max_depth:
                reason = "full_depth" if d == len(steps) else "max_steps"
                exit = {"reason": reason, "criterion": a.criterion, "score": value, "threshold": a.threshold}
            if exit is not None:
                break
            prev_h, prev_logp = h, logp
        if a.kv == "propagate":
            for s in range(d, len(steps)):
                self._propagate(steps[s].layer, h, steps[s].lora, s)
        exit.update(steps=d, max_steps=len(steps))
        return TokenResult(self.model.logits(h), [self._trace_step(s) for s in range(d)], scores, exit,
                           None, None, decisions)

    def _act(self, h):
        a, sched = self.arch, self.arch.schedule
        halt = self.model.model.act_halting
        c, out = torch.zeros(()), torch.zeros_like(h)  # float32 throughout, as the engine does
        done, scores, halting, decisions = [], [], [], []
        limit = 1.0 - a.epsilon
        for n in range(1, a.max_steps + 1):
            for s in sched.blocks[n - 1]:
                h = self._run(sched.steps[s].layer, h, sched.steps[s].lora, s)
                done.append(s)
                scores.append(None)
            p = torch.sigmoid(halt(h))[0]
            cum = c + p
            halting.append(float(cum))
            scores[-1] = float(cum)
            decisions.append(Decision("threshold", float(cum), limit, _threshold_margin(float(cum), limit)))
            if cum >= limit or n == a.max_steps:
                out = out + (1.0 - c) * h
                reason = "halted" if cum >= limit else "max_steps"
                break
            out = out + p * h
            c = cum
        for s in range(len(done), len(sched.steps)):
            self._propagate(sched.steps[s].layer, out, sched.steps[s].lora, s)
        exit = {"reason": reason, "criterion": "act", "score": float(cum), "threshold": limit,
                "steps": len(done), "max_steps": len(sched.steps)}
        return TokenResult(self.model.logits(out), [self._trace_step(s) for s in done], scores, exit,
                           None, halting, decisions)

    def _recurrent(self, h):
        a, cfg = self.arch, self.model.cfg
        rd = cfg.recurrent_depth
        P, C, D = rd["n_layers_in_prelude"], rd["n_layers_in_recurrent_block"], rd["n_layers_in_coda"]
        trace, scores, decisions = [], [], []
        for j in range(P):
            h = self._run_latest(j, h, 0, ("prelude", j))
            trace.append(("prelude", j, 0))
            scores.append(None)
        e = h
        s = rng.initial_state(a.seed, self.t, cfg.hidden_size, float(rd.get("state_init_std", 1.0)))
        prev_logp, run, exit, logits = None, 0, None, None
        need_coda_each_loop = a.criterion != "none"
        for i in range(1, a.steps + 1):
            x = self.model.model.adapter(torch.cat([s, e]))
            for j in range(P, P + C):
                x = self._run_latest(j, x, i - 1, ("core", j))
                trace.append(("core", j, i - 1))
                scores.append(None)
            prev_s, s = s, x
            logp = None
            if need_coda_each_loop or i == a.steps:
                o = s
                for j in range(P + C, P + C + D):
                    o = self._run_latest(j, o, i - 1, ("coda", j))
                    trace.append(("coda", j, i - 1))
                    scores.append(None)
                logits = self.model.logits(o)
                logp = torch.log_softmax(logits, dim=-1)
            value = None
            if a.criterion == "latent_diff":
                value = float((s - prev_s).norm() / s.norm())
            elif a.criterion == "kl" and i > 1:
                value = float((logp.exp() * (logp - prev_logp)).sum())
            elif a.criterion == "entropy_diff" and i > 1:
                ent = lambda lp: float(-(lp.exp() * lp).sum())
                value = abs(ent(logp) - ent(prev_logp))
            elif a.criterion == "argmax_stable":
                same = i > 1 and int(torch.argmax(logp)) == int(torch.argmax(prev_logp))
                run = run + 1 if same else 1
                value = float(run)
                if i > 1:
                    decisions.append(Decision("argmax", 0.0, None, _argmax_margin(logp.exp())))
            scores[-1] = value
            if i > 1 and i >= a.min_steps and value is not None:
                passes = value > a.threshold if a.greater else value < a.threshold
                if a.criterion != "argmax_stable":
                    decisions.append(Decision("threshold", value, a.threshold, _threshold_margin(value, a.threshold)))
                if passes:
                    exit = {"reason": "converged", "criterion": a.criterion, "score": value, "threshold": a.threshold}
            if exit is None and i == a.steps:
                exit = {"reason": "full_depth", "criterion": None if a.criterion == "none" else a.criterion,
                        "score": value, "threshold": None if a.criterion == "none" else a.threshold}
            if exit is not None:
                break
            prev_logp = logp
        exit.update(steps=len(trace), max_steps=P + (C + (D if need_coda_each_loop else 0)) * a.steps
                    + (0 if need_coda_each_loop else D))
        return TokenResult(logits, trace, scores, exit, None, None, decisions)


def run_sequence(model, arch: Arch, tokens: list[int]) -> list[TokenResult]:
    session = Session(model, arch)
    return [session.step(t) for t in tokens]
