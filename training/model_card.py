"""Write the model cards (models/NAME/README.md) and the table in models/README.md from the
exported folders and their training runs:

    python training/model_card.py [NAME ...]        # default: every exported model
    python training/model_card.py --table-only      # rebuild the table from models/*/card.json
    ... --depthscope .build/release/depthscope      # also measure the Swift columns

Numbers are measured here, on the exported float16 folders, with inference semantics
(training/evaluate.py); nothing is typed in by hand. Each model's numbers are kept in
models/NAME/card.json (the table's row) and its training run in models/NAME/training.json
and models/NAME/loss.csv, so the table can be rebuilt without the (gitignored) run folder.
With --depthscope, the validation loss, depth and decode speed are also measured by the
Swift engine (`depthscope eval`, `depthscope generate --stats`, median of 5 runs).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import SHAKESPEARE, CharVocab, addition, split  # noqa: E402
from depthscope_ref import parallel  # noqa: E402
from depthscope_ref.arch import resolve  # noqa: E402
from depthscope_ref.model import DepthModel  # noqa: E402
from evaluate import evaluate_arith, evaluate_ids  # noqa: E402
from recipes import RECIPES  # noqa: E402

MODELS = os.path.join(os.path.dirname(HERE), "models")
RUNS = os.path.join(HERE, "runs")
ORDER = ["shakespeare-mor", "shakespeare-mor-token", "shakespeare-recursive", "shakespeare-vanilla",
         "shakespeare-recurrent", "arith-ut"]


@torch.no_grad()
def generate(model, arch, vocab, prompt: str, n: int, temperature: float = 0.0, seed: int = 0) -> str:
    g = torch.Generator().manual_seed(seed)
    ids = vocab.encode(prompt)
    T = model.cfg.max_position_embeddings
    for _ in range(n):
        logits = parallel.forward(model, arch, torch.tensor([ids[-T:]])).logits[0, -1]
        if temperature == 0:
            ids.append(int(logits.argmax()))
        else:
            p = torch.softmax(logits / temperature, dim=-1)
            ids.append(int(torch.multinomial(p, 1, generator=g)))
    return vocab.decode(ids)


@torch.no_grad()
def depth_example(model, arch, vocab, text: str) -> str:
    """Per-character recursions (MoR): the depth at position t is what the token t went through."""
    out = parallel.forward(model, arch, torch.tensor([vocab.encode(text)]))
    sched = arch.schedule
    K = len(sched.blocks[0])
    recursions = ((out.depth[0] - len(sched.pre) - len(sched.post)) / K).long().tolist()
    shown = "".join("⏎" if c == "\n" else c for c in text)
    return "```\n" + shown + "\n" + "".join(str(r) for r in recursions) + "\n```"


def other_settings(cfg) -> list[tuple[str, dict]]:
    """Architectures worth measuring on each shipped model besides its default."""
    if cfg.mor and cfg.mor["type"] == "expert":
        return [("mor", {"threshold": 0.0}), ("mor", {"threshold": 0.3}), ("mor", {"threshold": 0.7}),
                ("recursive", {})]
    if cfg.mor:
        return [("recursive", {"recursions": 1}), ("recursive", {})]
    if cfg.relaxation:
        return [("recursive", {}), ("relaxed", {"recursions": 1})]
    if cfg.early_exit:
        return [("early-exit", {"criterion": "softmax_max", "threshold": 0.9}),
                ("early-exit", {"criterion": "softmax_max", "threshold": 0.6}),
                ("early-exit", {"criterion": "kl", "threshold": 0.05}),
                ("early-exit", {"criterion": "argmax_stable", "threshold": 2})]
    if cfg.recurrent_depth:
        return [("recurrent", {"steps": r, "criterion": "none"}) for r in (1, 2, 4, 8, 16)]
    return []


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path) if not f.endswith(".md"))


def train_stats(name: str) -> dict:
    """The training run's numbers: from training/runs/NAME when it is here (and then kept in the
    model folder as training.json and loss.csv), else from the model folder."""
    run, folder = os.path.join(RUNS, name), os.path.join(MODELS, name)
    kept = os.path.join(folder, "training.json")
    if not os.path.exists(os.path.join(run, "summary.json")):
        with open(kept) as f:
            return json.load(f)
    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    depths = []
    with open(os.path.join(run, "loss.csv")) as f:
        for row in csv.DictReader(f):
            depths.append(float(row["depth"]))
    stats = {k: summary[k] for k in ("steps", "tokens", "seed", "threads", "train_seconds")}
    stats["train_mean_depth"] = sum(depths) / len(depths)
    with open(kept, "w") as f:
        json.dump(stats, f, indent=1)
    shutil.copyfile(os.path.join(run, "loss.csv"), os.path.join(folder, "loss.csv"))
    return stats


def swift_numbers(name: str, binary: str, arith: bool) -> dict:
    """What the Swift engine measures on this folder: `depthscope eval` on the validation split
    (Shakespeare models) and decode tokens/s (median of 5 runs of 250 tokens, seed 1)."""
    out = {}
    if not arith:
        r = json.loads(subprocess.run(
            [binary, "eval", "--model", name, "--file", SHAKESPEARE, "--validation-split", "--json"],
            check=True, capture_output=True, text=True).stdout)
        out.update(swift_val=r["nll"], swift_depth=r["mean_depth"], swift_below=r["early_fraction"],
                   swift_flops=r["flops_ratio"])
    prompt = "\n123+456=" if arith else "ROMEO:\n"
    speeds = []
    for _ in range(5):
        err = subprocess.run([binary, "generate", "--model", name, "--prompt", prompt, "-n", "250",
                              "--temperature", "0.8", "--seed", "1", "--stats"],
                             check=True, capture_output=True, text=True).stderr
        speeds.append(float(re.search(r"generation: \d+ tokens in [\d.]+ s, ([\d.]+) tokens/s", err).group(1)))
    out["swift_tokens_per_second"] = statistics.median(speeds)
    return out


def card(name: str, binary: str | None) -> dict:
    folder = os.path.join(MODELS, name)
    recipe = RECIPES[name]
    model = DepthModel.load(folder)
    with open(os.path.join(folder, "char_vocab.json")) as f:
        vocab = CharVocab(json.load(f)["chars"])
    model, arch = resolve(model, model.cfg.default_arch())
    stats = train_stats(name)
    row = {"name": name, "arch": arch.name, "params": sum(p.numel() for p in model.parameters()),
           "steps": stats["steps"], "tokens": stats["tokens"], "hours": stats["train_seconds"] / 3600,
           "bytes": folder_bytes(folder), "train_depth": stats["train_mean_depth"]}
    lines = [f"# {name}", "", recipe.description, ""]
    if recipe.data == "arith":
        r = evaluate_arith(model, arch, vocab)
        row.update(val=None, exact=r["exact"], depth=r["mean_steps_answer"], full=arch.max_steps)
        lines += [
            "## Task", "",
            "One addition per line: the operands as usual, then `=`, then the sum written least-significant",
            "digit first, then a newline. `123+456=975` means 123 + 456 = 579. Prompt with `123+456=`",
            "(a newline before it helps) and read the digits up to the newline.", "",
            "## Results (measured on this folder)", "",
            f"- Exact answers on {r['problems']} held-out 3-digit additions (never seen in training): "
            f"**{r['exact'] * 100:.1f}%** (greedy).",
            f"- Mean ponder steps (ACT steps, max {arch.max_steps}) at the position that writes an answer digit:",
            f"  digits that receive a carry {r['mean_steps_digit_with_carry_in']:.2f}, digits without "
            f"{r['mean_steps_digit_without_carry_in']:.2f}; over all answer characters {r['mean_steps_answer']:.2f}.",
        ]
        shown = []
        for a, b in [(357, 468), (901, 99), (555, 445)]:
            got = generate(model, arch, vocab, f"\n{a}+{b}=", 6).split("\n")[1]
            want = addition(a, b).strip()
            shown.append(f"`{got}`" + (" (right)" if got == want else f" (wrong: `{want}`)"))
        lines += ["", "Greedy answers: " + ", ".join(shown) + ".", ""]
    else:
        with open(SHAKESPEARE, encoding="utf-8") as f:
            val = split(f.read())[1]
        r = evaluate_ids(model, arch, torch.tensor(vocab.encode(val)), model.cfg.max_position_embeddings)
        row.update(val=r["nll"], depth=r["mean_depth"], full=r["full_depth"], flops=r.get("flops_ratio"),
                   below=r["fraction_below_full_depth"])
        lines += [
            "## Results (measured on this folder)", "",
            f"- Validation loss (last 10% of tinyshakespeare, {r['tokens']} characters, windows of "
            f"{model.cfg.max_position_embeddings}, inference semantics): **{r['nll']:.4f} nats/char** "
            f"(perplexity {r['perplexity']:.2f}).",
            f"- Mean depth {r['mean_depth']:.2f} of {r['full_depth']} steps (layer applications); "
            f"{r['fraction_below_full_depth'] * 100:.1f}% of tokens stop before full depth; "
            f"FLOPs per token {r['flops_ratio'] * 100:.0f}% of full depth.",
            f"- Depth histogram (steps: tokens): {json.dumps(r['depth_histogram'])}.",
        ]
        variants = other_settings(model.cfg)
        if variants:
            lines += ["", "Other settings on the same weights (same protocol):", "",
                      "| arch | options | val loss | mean depth | stop early |", "|---|---|---|---|---|"]
            base = DepthModel.load(folder)
            for arch_name, opts in variants:
                m2, a2 = resolve(base, arch_name, dict(opts))
                r2 = evaluate_ids(m2, a2, torch.tensor(vocab.encode(val)), model.cfg.max_position_embeddings)
                shown = " ".join(f"{k}={v}" for k, v in opts.items()) or "(defaults)"
                lines.append(f"| {arch_name} | {shown} | {r2['nll']:.4f} | {r2['mean_depth']:.2f} / {r2['full_depth']} "
                             f"| {r2['fraction_below_full_depth'] * 100:.0f}% |")
        prompt = "ROMEO:\n"
        lines += ["", "## Samples", "", "Greedy, prompt `ROMEO:\\n`:", "", "```",
                  generate(model, arch, vocab, prompt, 160), "```", "",
                  "Sampled (temperature 0.8, seed 1):", "", "```",
                  generate(model, arch, vocab, prompt, 160, 0.8, 1), "```"]
        if arch.policy in ("mor_expert", "mor_token"):
            lines += ["", "## Depth per character", "",
                      "Recursions of the shared block each character went through (1-3; the first and last",
                      "layers always run). The depth of a character is the work spent on it, which shapes the",
                      "prediction of the character after it.", ""]
            for text in ["KING HENRY VI:\nWhat, will you fight?", "First Citizen:\nWe are accounted poor citizens."]:
                lines += [depth_example(model, arch, vocab, text), ""]
    lines += [
        "## Training", "",
        f"- {row['params']:,} parameters; {stats['steps']} steps of {RECIPES[name].train['batch']} x "
        f"{RECIPES[name].train['context']} tokens ({stats['tokens']:,} tokens), seed {stats['seed']}, "
        f"{stats['threads']} CPU thread(s), {stats['train_seconds'] / 60:.0f} minutes.",
        f"- Mean layer applications per token during training: {row['train_depth']:.2f}.",
        f"- Reproduce: `python training/train.py --recipe {name} --seed {stats['seed']}` "
        f"(loss curve: training/runs/{name}/loss.csv).",
        "", "## Config", "", "```json",
        json.dumps({k: v for k, v in model.cfg.to_hf_dict().items()
                    if k in ("recursive", "relaxation", "mor", "early_exit", "act", "recurrent_depth")}, indent=2),
        "```", "",
        f"Run it: `depthscope --model {name}`; the architecture and its options are in "
        "docs/architectures.md.", ""]
    if binary:
        row.update(swift_numbers(name, binary, recipe.data == "arith"))
    with open(os.path.join(MODELS, name, "README.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(folder, "card.json"), "w") as f:
        json.dump(row, f, indent=1)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--depthscope", help="a (release) depthscope binary: also measure the Swift columns")
    ap.add_argument("--table-only", action="store_true", help="only rebuild the table from models/*/card.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = args.names or [n for n in ORDER if os.path.exists(os.path.join(MODELS, n, "config.json"))]
    if not args.table_only:
        for name in names:
            print(json.dumps(card(name, args.depthscope)))
    rows = []
    for name in ORDER:
        path = os.path.join(MODELS, name, "card.json")
        if os.path.exists(path):
            with open(path) as f:
                rows.append(json.load(f))
    write_table(rows)


def write_table(rows: list[dict]):
    head = ["model", "arch", "params", "steps (tokens)", "train time", "val loss (Python)",
            "val loss (depthscope eval)", "mean depth / full", "stop early", "FLOPs/token vs full",
            "decode tok/s", "folder"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def maybe(key, fmt):
        return fmt(r[key]) if r.get(key) is not None else "-"

    for r in rows:
        val = f"{r['val']:.4f}" if r.get("val") is not None else f"{r['exact'] * 100:.1f}% exact"
        lines.append("| " + " | ".join([
            r["name"], r["arch"], f"{r['params'] / 1e6:.2f} M", f"{r['steps']} ({r['tokens'] / 1e6:.1f} M)",
            f"{r['hours'] * 60:.0f} min", val, maybe("swift_val", lambda v: f"{v:.4f}"),
            f"{r['depth']:.2f} / {r['full']}", maybe("below", lambda v: f"{v * 100:.0f}%"),
            maybe("swift_flops" if r.get("swift_flops") is not None else "flops", lambda v: f"{v * 100:.0f}%"),
            maybe("swift_tokens_per_second", lambda v: f"{v:.0f}"),
            f"{r['bytes'] / 1e6:.2f} MB"]) + " |")
    path = os.path.join(MODELS, "README.md")
    text = open(path).read() if os.path.exists(path) else ""
    start, end = "<!-- table:start -->", "<!-- table:end -->"
    table = start + "\n" + "\n".join(lines) + "\n" + end
    if start in text:
        text = text[:text.index(start)] + table + text[text.index(end) + len(end):]
    else:
        text = text + "\n" + table + "\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
