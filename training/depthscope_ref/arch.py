"""Architectures by name and their runtime options (docs/architectures.md section 6).

`resolve(model, name, options)` validates the options against the checkpoint and returns the
model to run (a converted copy for `convert`) and an `Arch`: schedule x policy x KV policy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .config import ALL_TARGETS, SHARINGS
from .schedule import Schedule, recursive_schedule

EARLY_EXIT_CRITERIA = {  # name: (exit when value is greater (True) or smaller, default, low, high)
    "softmax_max": (True, 0.9, 0.0, 1.0),
    "top2_margin": (True, 0.8, 0.0, 1.0),
    "cosine": (True, 0.99, -1.0, 1.0),
    "kl": (False, 0.01, 0.0, float("inf")),
    "argmax_stable": (True, 2.0, 1.0, float("inf")),
}
RECURRENT_CRITERIA = {
    "none": (None, 0.0, 0.0, float("inf")),
    "latent_diff": (False, 0.03, 0.0, float("inf")),
    "kl": (False, 5e-4, 0.0, float("inf")),
    "entropy_diff": (False, 1e-3, 0.0, float("inf")),
    "argmax_stable": (True, 2.0, 1.0, float("inf")),
}
ARCHS = ["vanilla", "recursive", "relaxed", "convert", "mor", "early-exit", "ut", "recurrent"]


class OptionError(ValueError):
    pass


@dataclass
class Arch:
    name: str
    policy: str                  # fixed | mor_expert | mor_token | early_exit | act | recurrent
    kv: str                      # full | recursion_wise | recursive_sharing | propagate | latest
    schedule: Schedule | None = None
    options: dict = field(default_factory=dict)

    def __getattr__(self, key):  # options read as attributes: arch.threshold
        try:
            return self.__dict__["options"][key]
        except KeyError:
            raise AttributeError(key) from None


def _opt(options: dict, key: str, default, kind, low=None, high=None, choices=None):
    if key not in options:
        return default
    raw = options.pop(key)
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise OptionError(f"option {key}={raw}: not a valid {kind.__name__}") from None
    if kind is float and value != value:
        raise OptionError(f"option {key}={raw}: not a number")
    if choices is not None and value not in choices:
        raise OptionError(f"option {key}={raw}: expected one of {', '.join(choices)}")
    if low is not None and value < low or high is not None and value > high:
        raise OptionError(f"option {key}={raw}: out of range [{low}, {high}]")
    return value


def _normalise(options: dict) -> dict:
    out = {}
    for k, v in options.items():
        k = k.replace("-", "_")
        if isinstance(v, str) and k in ("sharing", "kv", "init", "criterion", "type"):
            v = v.replace("-", "_")
        out[k] = v
    return out


def resolve(model, name: str, options: dict | None = None):
    """-> (model to run, Arch). Raises OptionError with one line for bad input."""
    from .convert import convert  # late import: convert builds models

    cfg = model.cfg
    opts = _normalise(dict(options or {}))
    n = cfg.num_hidden_layers

    def recursion_opts(default_r, default_sharing, max_r=None):
        r = _opt(opts, "recursions", default_r, int, 1, max_r)
        sharing = _opt(opts, "sharing", default_sharing, str, choices=SHARINGS)
        if sharing == "middle_cycle" and n < 3:
            raise OptionError(f"option sharing=middle_cycle: needs at least 3 layers, the model has {n}")
        return r, sharing

    if name == "vanilla":
        arch = Arch(name, "fixed", "full", recursive_schedule(n, "cycle", 1))
    elif name == "recursive":
        r, sharing = recursion_opts(cfg.num_recursion, cfg.sharing)
        arch = Arch(name, "fixed", "full", recursive_schedule(n, sharing, r))
    elif name == "relaxed":
        if not cfg.relaxation:
            raise OptionError("arch relaxed: the checkpoint has no `relaxation` (per-loop LoRA)")
        r = _opt(opts, "recursions", cfg.num_recursion, int, 1, cfg.num_recursion)
        arch = Arch(name, "fixed", "full", recursive_schedule(n, cfg.sharing, r, lora=True))
    elif name == "convert":
        sharing = _opt(opts, "sharing", "cycle", str, choices=SHARINGS)
        r = _opt(opts, "recursions", 2, int, 1)
        m = n - 2 if sharing == "middle_cycle" else n
        if m < 1:
            raise OptionError(f"option sharing={sharing}: the model has too few layers ({n})")
        if "layers" not in opts and m % r != 0:
            raise OptionError(f"option recursions={r}: does not divide the {m} layers to share; give layers=K")
        k = _opt(opts, "layers", m // r, int, 1, m)
        init = _opt(opts, "init", "stepwise", str, choices=["stepwise", "average", "lower"])
        c = cfg
        rank = _opt(opts, "lora_rank", 0, int, 0, min(c.hidden_size, c.intermediate_size,
                                                      c.num_key_value_heads * c.head_dim))
        targets = opts.pop("lora_targets", ",".join(ALL_TARGETS))
        targets = targets.split(",") if isinstance(targets, str) else list(targets)
        for t in targets:
            if t not in ALL_TARGETS:
                raise OptionError(f"option lora_targets: unknown projection {t}")
        model = convert(model, sharing, r, k, init, rank, targets)
        arch = Arch(name, "fixed", "full",
                    recursive_schedule(model.cfg.num_hidden_layers, sharing, r, lora=rank > 0))
    elif name == "mor":
        if not cfg.mor:
            raise OptionError("arch mor: the checkpoint has no `mor` routers")
        kind = cfg.mor["type"]
        if cfg.sharing not in ("cycle", "middle_cycle"):
            raise OptionError(f"arch mor: recursive.sharing must be cycle or middle_cycle, not {cfg.sharing}")
        kv = _opt(opts, "kv", "recursive_sharing" if cfg.mor.get("kv_sharing") else "recursion_wise",
                  str, choices=["recursion_wise", "recursive_sharing"])
        sched = recursive_schedule(n, cfg.sharing, cfg.num_recursion, lora=bool(cfg.relaxation))
        if kind == "expert":
            thr = _opt(opts, "threshold", float(cfg.mor.get("threshold", 0.5)), float, 0.0, 1.0)
            arch = Arch(name, "mor_expert", kv, sched, {"threshold": thr})
        else:
            arch = Arch(name, "mor_token", kv, sched)
    elif name == "early-exit":
        if cfg.recurrent_depth:
            raise OptionError("arch early-exit: recurrent-depth checkpoints use arch recurrent's exits")
        ee = cfg.early_exit or {}
        default_r = int(cfg.act.get("max_steps", cfg.num_recursion)) if cfg.act else cfg.num_recursion
        r, sharing = recursion_opts(default_r, cfg.sharing)
        if cfg.relaxation and r > cfg.num_recursion:
            raise OptionError(f"option recursions={r}: the relaxed checkpoint has LoRA for {cfg.num_recursion} loops")
        sched = recursive_schedule(n, sharing, r, lora=bool(cfg.relaxation))
        full = len(sched.steps)
        crit = _opt(opts, "criterion", ee.get("criterion", "softmax_max"), str, choices=list(EARLY_EXIT_CRITERIA))
        greater, default, low, high = EARLY_EXIT_CRITERIA[crit]
        if "threshold" not in opts and crit == ee.get("criterion", "softmax_max") and "threshold" in ee:
            default = float(ee["threshold"])
        thr = _opt(opts, "threshold", default, float, low, high)
        if crit == "argmax_stable" and thr != int(thr):
            raise OptionError(f"option threshold={thr}: argmax_stable needs a whole number of steps")
        min_d = _opt(opts, "min_depth", int(ee.get("min_depth", 1)), int, 1, full)
        max_d = _opt(opts, "max_depth", int(ee.get("max_depth") or full), int, min_d, full)
        kv = _opt(opts, "kv", ee.get("kv_policy", "propagate"), str, choices=["propagate", "recursion_wise"])
        arch = Arch(name, "early_exit", kv, sched,
                    {"criterion": crit, "threshold": thr, "greater": greater, "min_depth": min_d, "max_depth": max_d})
    elif name == "ut":
        if not cfg.act:
            raise OptionError("arch ut: the checkpoint has no `act` halting unit")
        steps = _opt(opts, "max_steps", int(cfg.act.get("max_steps", cfg.num_recursion)), int, 1)
        eps = _opt(opts, "epsilon", float(cfg.act.get("epsilon", 0.01)), float, 0.0, 1.0)
        if not 0.0 < eps < 1.0:
            raise OptionError(f"option epsilon={eps}: out of range (0, 1)")
        arch = Arch(name, "act", "propagate", recursive_schedule(n, "cycle", steps),
                    {"max_steps": steps, "epsilon": eps})
    elif name == "recurrent":
        rd = cfg.recurrent_depth
        if not rd:
            raise OptionError("arch recurrent: the checkpoint has no `recurrent_depth` adapter")
        max_r = int(rd.get("max_recurrence", 64))
        steps = _opt(opts, "steps", int(rd.get("mean_recurrence", 4)), int, 1, max_r)
        crit = _opt(opts, "criterion", rd.get("exit_criterion", "none"), str, choices=list(RECURRENT_CRITERIA))
        greater, default, low, high = RECURRENT_CRITERIA[crit]
        if crit == rd.get("exit_criterion", "none") and "exit_threshold" in rd:
            default = float(rd["exit_threshold"])
        thr = _opt(opts, "threshold", default, float, low, high)
        min_steps = _opt(opts, "min_steps", 1, int, 1, steps)
        seed = _opt(opts, "seed", int(rd.get("state_init_seed", 0)), int, 0, 2**64 - 1)
        arch = Arch(name, "recurrent", "latest", None,
                    {"steps": steps, "criterion": crit, "threshold": thr, "greater": greater,
                     "min_steps": min_steps, "seed": seed})
    else:
        raise OptionError(f"unknown architecture {name!r} (known: {', '.join(ARCHS)})")
    if opts:
        raise OptionError(f"option {next(iter(opts))}: not an option of arch {name}")
    return model, arch
