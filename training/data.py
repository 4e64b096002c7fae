"""Training data: a character corpus (split 90/10 by characters) and generated additions."""
from __future__ import annotations

import json
import os
import random

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The corpus lives beside the repository (issue 4): ../shared/data/tinyshakespeare.txt
SHAKESPEARE = os.path.join(os.path.dirname(REPO), "shared", "data", "tinyshakespeare.txt")


class CharVocab:
    """The character vocabulary written as char_vocab.json (format: Sources/Engine/Tokenizers/Tokenizer.swift)."""

    def __init__(self, chars: list[str]):
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        return cls(sorted(set(text)))

    def encode(self, text: str) -> list[int]:
        return [self.index[c] for c in text]

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"type": "char", "chars": self.chars, "unk_id": None, "bos_id": None, "eos_id": None},
                          ensure_ascii=False) + "\n"


def split(text: str) -> tuple[str, str]:
    """The project's convention: the last 10% of characters (Unicode scalars) is validation."""
    cut = int(0.9 * len(text))
    return text[:cut], text[cut:]


class TextBatches:
    """Random windows of T+1 characters from the training split, from a seeded generator."""

    def __init__(self, ids: torch.Tensor, T: int, batch: int, seed: int):
        self.ids, self.T, self.batch = ids, T, batch
        self.g = torch.Generator().manual_seed(seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        starts = torch.randint(0, len(self.ids) - self.T - 1, (self.batch,), generator=self.g, device="cpu")
        w = torch.stack([self.ids[s:s + self.T + 1] for s in starts.tolist()])
        return w[:, :-1], w[:, 1:], None


def eval_windows(ids: torch.Tensor, T: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """docs/architectures.md section 8: consecutive non-overlapping windows, each from position 0."""
    n = len(ids)
    out = []
    for start in range(0, n - 1, T):
        end = min(start + T, n - 1)
        out.append((ids[start:end], ids[start + 1:end + 1]))
    return out


# ---- arithmetic ---------------------------------------------------------------------------
ARITH_CHARS = list("\n+0123456789=")


def addition(a: int, b: int) -> str:
    """The written form: operands as usual, the sum least-significant digit first, e.g.
    `123+456=975` for 123+456=579 (Lee et al. 2023, "reverse"), one problem per line."""
    return f"{a}+{b}={str(a + b)[::-1]}\n"


def held_out_pairs(count: int = 1000, seed: int = 1234) -> list[tuple[int, int]]:
    rnd = random.Random(seed)
    pairs = set()
    while len(pairs) < count:
        pairs.add((rnd.randint(100, 999), rnd.randint(100, 999)))
    return sorted(pairs)


class ArithBatches:
    """Windows of T+1 characters of concatenated random additions (1-4 digit operands),
    never containing a held-out 3-digit pair; the loss mask keeps only answer characters
    (after '=' up to and including the newline)."""

    def __init__(self, vocab: CharVocab, T: int, batch: int, seed: int, max_digits: int = 4):
        self.vocab, self.T, self.batch, self.max_digits = vocab, T, batch, max_digits
        self.rnd = random.Random(seed)
        self.held = set(held_out_pairs())

    def operand(self) -> int:
        digits = self.rnd.randint(1, self.max_digits)
        return self.rnd.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1)

    def line(self) -> str:
        while True:
            a, b = self.operand(), self.operand()
            if (a, b) not in self.held:
                return addition(a, b)

    def window(self) -> tuple[list[int], list[int]]:
        text = "\n"  # windows start right after a newline, as prompts do
        while len(text) < self.T + 1:
            text += self.line()
        text = text[:self.T + 1]
        mask, answer = [], False
        for c in text:
            mask.append(1 if answer else 0)  # mask[i] = 1 if text[i] is an answer character
            if c == "=":
                answer = True
            elif c == "\n":
                answer = False
        return self.vocab.encode(text), mask

    def next(self):
        ws = [self.window() for _ in range(self.batch)]
        ids = torch.tensor([w[0] for w in ws], device="cpu")
        mask = torch.tensor([w[1] for w in ws], dtype=torch.float32, device="cpu")
        return ids[:, :-1], ids[:, 1:], mask[:, 1:]
