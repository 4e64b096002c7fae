"""Evaluation with inference semantics, as `depthscope eval` does it (docs/architectures.md section 8).

    python training/evaluate.py --model models/shakespeare-mor [--arch mor --arch-option threshold=0.6]
    python training/evaluate.py --model models/arith-ut --arith

Uses the parallel path (equal to token-by-token inference, see test_ref.py).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import SHAKESPEARE, CharVocab, addition, eval_windows, held_out_pairs, split  # noqa: E402
from depthscope_ref import parallel  # noqa: E402
from depthscope_ref.arch import resolve  # noqa: E402
from depthscope_ref.model import DepthModel  # noqa: E402


def flops_per_step(cfg, n_keys: float) -> float:
    """Section 9: matmul FLOPs of one layer application attending over n_keys keys."""
    d, f, qd, kvd = cfg.hidden_size, cfg.intermediate_size, cfg.num_attention_heads * cfg.head_dim, \
        cfg.num_key_value_heads * cfg.head_dim
    return 2 * (d * qd + 2 * d * kvd + qd * d + 3 * d * f) + 4 * cfg.num_attention_heads * cfg.head_dim * n_keys


def full_depth(cfg, arch) -> int:
    """Steps a token runs at full depth under this architecture."""
    if arch.schedule is not None:
        return len(arch.schedule.steps)
    rd = cfg.recurrent_depth
    P, C, D = rd["n_layers_in_prelude"], rd["n_layers_in_recurrent_block"], rd["n_layers_in_coda"]
    return P + (C + D) * arch.steps if arch.criterion != "none" else P + C * arch.steps + D


@torch.no_grad()
def evaluate_ids(model, arch, ids: torch.Tensor, T: int, batch: int = 16) -> dict:
    windows = eval_windows(ids, T)
    total_nll, total_tokens, total_depth = 0.0, 0, 0.0
    histogram: dict[int, int] = {}
    full = full_depth(model.cfg, arch)
    for i in range(0, len(windows), batch):
        group = windows[i:i + batch]
        lengths = {len(x) for x, _ in group}
        for L in lengths:  # equal-length windows go together (only the last one is shorter)
            xs = torch.stack([x for x, _ in group if len(x) == L])
            ys = torch.stack([y for x, y in group if len(x) == L])
            out = parallel.forward(model, arch, xs)
            nll = F.cross_entropy(out.logits.reshape(-1, out.logits.shape[-1]), ys.reshape(-1), reduction="sum")
            total_nll += float(nll)
            total_tokens += ys.numel()
            total_depth += float(out.depth.sum())
            for d, c in zip(*torch.unique(out.depth.long(), return_counts=True)):
                histogram[int(d)] = histogram.get(int(d), 0) + int(c)
    mean = total_nll / total_tokens
    result = {"nll": mean, "perplexity": math.exp(mean), "tokens": total_tokens,
              "mean_depth": total_depth / total_tokens,
              "depth_histogram": {str(d): histogram[d] for d in sorted(histogram)}}
    if full:
        result["full_depth"] = full
        result["fraction_below_full_depth"] = sum(c for d, c in histogram.items() if d < full) / total_tokens
        n_keys = (T + 1) / 2  # average keys per query over a full window
        result["flops_ratio"] = (result["mean_depth"] * flops_per_step(model.cfg, n_keys)
                                 + 2 * model.cfg.hidden_size * model.cfg.vocab_size) / \
                                (full * flops_per_step(model.cfg, n_keys) + 2 * model.cfg.hidden_size * model.cfg.vocab_size)
    return result


@torch.no_grad()
def evaluate_arith(model, arch, vocab: CharVocab, pairs=None) -> dict:
    """Greedy answers to held-out 3-digit additions; ponder (ACT steps) per answer digit,
    split by whether the digit receives a carry from the digit below it."""
    pairs = pairs or held_out_pairs()
    prompts = [f"\n{a}+{b}=" for a, b in pairs]
    ids = torch.tensor([vocab.encode(p) for p in prompts])
    answers = [addition(a, b).split("=")[1] for a, b in pairs]  # reversed digits + "\n"
    nl = vocab.index["\n"]
    for _ in range(max(len(a) for a in answers)):
        out = parallel.forward(model, arch, ids)
        ids = torch.cat([ids, out.logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    # ponder: ACT steps spent at the position that predicts each answer character
    out = parallel.forward(model, arch, ids)
    K = max(1, len(arch.schedule.blocks[0])) if arch.schedule is not None and arch.schedule.blocks else 1
    steps = out.depth / K
    correct, carry_steps, plain_steps = 0, [], []
    start = len(prompts[0])
    for i, (a, b) in enumerate(pairs):
        text = vocab.decode(ids[i, start:].tolist())
        got = text.split("\n")[0] + "\n" if "\n" in text else text
        correct += got == answers[i]
        carry = 0
        for k, digit in enumerate(answers[i][:-1]):  # least significant first
            ponder = float(steps[i, start - 1 + k])
            (carry_steps if carry else plain_steps).append(ponder)
            da, db = (a // 10 ** k) % 10, (b // 10 ** k) % 10
            carry = 1 if da + db + carry >= 10 else 0
    return {"exact": correct / len(pairs), "problems": len(pairs),
            "mean_steps_digit_with_carry_in": sum(carry_steps) / max(1, len(carry_steps)),
            "mean_steps_digit_without_carry_in": sum(plain_steps) / max(1, len(plain_steps)),
            "mean_steps_answer": out.depth[:, start - 1:].mean().item() / K}


def parse_options(pairs: list[str]) -> dict:
    out = {}
    for p in pairs or []:
        if "=" not in p:
            raise SystemExit(f"--arch-option {p}: expected key=value")
        k, v = p.split("=", 1)
        out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--arch")
    ap.add_argument("--arch-option", action="append")
    ap.add_argument("--file", help="text to evaluate (default: the validation split of tinyshakespeare)")
    ap.add_argument("--arith", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = DepthModel.load(args.model)
    with open(os.path.join(args.model, "char_vocab.json")) as f:
        vocab = CharVocab(json.load(f)["chars"])
    model, arch = resolve(model, args.arch or model.cfg.default_arch(), parse_options(args.arch_option))
    if args.arith:
        print(json.dumps(evaluate_arith(model, arch, vocab)))
        return
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    else:
        with open(SHAKESPEARE, encoding="utf-8") as f:
            text = split(f.read())[1]
    ids = torch.tensor(vocab.encode(text))
    print(json.dumps(evaluate_ids(model, arch, ids, model.cfg.max_position_embeddings)))


if __name__ == "__main__":
    main()
