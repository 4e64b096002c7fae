"""Schedules: which stored layer runs at each depth step (docs/architectures.md section 3)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    block: str            # "layer" | "prelude" | "core" | "coda"
    layer: int            # stored layer index
    recursion: int        # loop index (0 for non-recursive steps)
    lora: int | None      # LoRA loop index to apply, or None


@dataclass
class Schedule:
    steps: list[Step]
    pre: list[int] = field(default_factory=list)        # step indices before the recursion blocks
    blocks: list[list[int]] = field(default_factory=list)  # step indices of recursion block r
    post: list[int] = field(default_factory=list)       # step indices after them


def recursive_schedule(num_layers: int, sharing: str, recursions: int, lora: bool = False) -> Schedule:
    """Plain (R = 1, cycle), cycle, sequence or middle_cycle over stored layers 0..N-1."""
    steps: list[Step] = []
    sched = Schedule(steps)
    if sharing == "sequence":
        for k in range(num_layers):
            for r in range(recursions):
                steps.append(Step("layer", k, r, r if lora else None))
        # sequence sharing has no contiguous recursion blocks; only early exit / fixed use it
        return sched
    shared = range(1, num_layers - 1) if sharing == "middle_cycle" else range(num_layers)
    if sharing == "middle_cycle":
        steps.append(Step("layer", 0, 0, None))
        sched.pre.append(0)
    for r in range(recursions):
        block = []
        for k in shared:
            block.append(len(steps))
            steps.append(Step("layer", k, r, r if lora else None))
        sched.blocks.append(block)
    if sharing == "middle_cycle":
        sched.post.append(len(steps))
        steps.append(Step("layer", num_layers - 1, 0, None))
    return sched
