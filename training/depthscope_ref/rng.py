"""The recurrent-depth random initial state (docs/architectures.md section 7).

A counter-based generator (splitmix64 + Box-Muller) keyed by (seed, position, element), so
the Swift engine draws bit-identical float32 values, token by token or all at once.
"""
from __future__ import annotations

import math

import torch

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def splitmix(seed: int, n: int) -> int:
    """The n-th output (n >= 1) of splitmix64 started at `seed`."""
    return mix64((seed + n * GOLDEN) & MASK)


def normal(seed: int, position: int, element: int, hidden_size: int) -> float:
    n = 2 * (position * hidden_size + element) + 1
    u1 = ((splitmix(seed, n) >> 11) + 1) * 2.0**-53
    u2 = (splitmix(seed, n + 1) >> 11) * 2.0**-53
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def initial_state(seed: int, position: int, hidden_size: int, std: float) -> torch.Tensor:
    """s_0 for one position: float32 [hidden_size]."""
    values = [std * normal(seed, position, e, hidden_size) for e in range(hidden_size)]
    return torch.tensor(values, dtype=torch.float32)


_cache: dict = {}


def initial_states(seed: int, length: int, hidden_size: int, std: float) -> torch.Tensor:
    """s_0 for positions 0..length-1: float32 [length, hidden_size] (memoised: training asks often)."""
    key = (seed, hidden_size, std)
    have = _cache.get(key)
    if have is None or have.shape[0] < length:
        have = torch.stack([initial_state(seed, t, hidden_size, std) for t in range(length)])
        _cache[key] = have
    return have[:length]


if __name__ == "__main__":
    # The test vector quoted by the spec.
    print([initial_state(0, 0, 4, 1.0)[e].item() for e in range(4)])
    print([initial_state(12345, 7, 4, 1.0)[e].item() for e in range(4)])
