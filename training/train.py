"""Train a depthscope demo model from a recipe and export it as an HF-style folder.

    python training/train.py --recipe shakespeare-mor [--text FILE] [--steps N] [--seed S]

Writes training/runs/NAME/ (gitignored): loss.csv (the loss curve), ckpt.pt (resumable with
--resume), summary.json (final validation numbers) and train.log; then exports
models/NAME/ (config.json, model.safetensors in f16, char_vocab.json) unless --no-export.

Determinism: for a given seed, thread count (--threads, default 1) and machine, a run is
bitwise reproducible (seeded generators for init, data and loop counts; deterministic
algorithms; a fixed thread count, because reductions split across threads round
differently). One thread is the default because the two cores are shared: under
contention one thread per run is faster than two. A GPU is used when present (results
then differ from the CPU ones).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import ARITH_CHARS, SHAKESPEARE, ArithBatches, CharVocab, TextBatches, split  # noqa: E402
from depthscope_ref import parallel  # noqa: E402
from depthscope_ref.arch import resolve  # noqa: E402
from depthscope_ref.model import DepthModel  # noqa: E402
from evaluate import evaluate_arith, evaluate_ids  # noqa: E402
from export import export  # noqa: E402
from recipes import RECIPES  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def lr_at(step: int, t: dict) -> float:
    """Linear warmup, then cosine decay to min_lr_ratio * lr."""
    if step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    progress = (step - t["warmup"]) / max(1, t["steps"] - t["warmup"])
    return t["lr"] * (t["min_lr_ratio"] + (1 - t["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * progress)))


def masked_ce(logits, targets, mask):
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    if mask is None:
        return ce.mean()
    mask = mask.reshape(-1)
    return (ce * mask).sum() / mask.sum()


def training_loss(model, arch, recipe, x, y, mask, g: torch.Generator):
    """The recipe's loss for one batch: next-token CE plus the policy's auxiliary term."""
    ex = recipe.extras
    stats = {}
    if arch.policy == "mor_expert":
        out = parallel.forward(model, arch, x, train=True, capacity=ex["capacity"])
        ce = masked_ce(out.logits, y, mask)
        aux = out.aux_loss
        loss = ce + ex["aux_loss"] * aux
    elif arch.policy == "mor_token":
        out = parallel.forward(model, arch, x, train=True)
        ce = masked_ce(out.logits, y, mask)
        aux = out.aux_loss
        loss = ce + ex["aux_loss"] * aux
        stats = {f"frac_r{i + 1}": float(v) for i, v in enumerate(out.stats["depth_fractions"])}
    elif arch.policy == "act":
        out = parallel.forward(model, arch, x, train=True)
        ce = masked_ce(out.logits, y, mask)
        aux = out.aux_loss
        loss = ce + ex["ponder_cost"] * aux
    elif arch.policy == "recurrent":
        extra = int(torch.poisson(torch.tensor([ex["mean_extra_loops"]], device="cpu"), generator=g).item())
        loops = min(1 + extra, ex["max_loops"])
        out = parallel.forward(model, arch, x, train=True, steps=loops, backprop_depth=ex["backprop_depth"])
        ce = masked_ce(out.logits, y, mask)
        aux = torch.zeros(())
        loss = ce
        stats = {"loops": loops}
    elif "exit_loss" in ex:  # LayerSkip: the shared head reads every layer
        out = parallel.forward(model, arch, x, train=True, step_logits=True)
        ce = masked_ce(out.logits, y, mask)
        early = torch.stack([masked_ce(l, y, mask) for l in out.step_logits[:-1]]).mean()
        aux = early
        loss = ce + ex["exit_loss"] * early
    else:
        out = parallel.forward(model, arch, x, train=True)
        ce = masked_ce(out.logits, y, mask)
        aux = torch.zeros(())
        loss = ce
    stats["depth"] = float(out.depth.float().mean())
    return loss, ce, aux, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", required=True, choices=sorted(RECIPES))
    ap.add_argument("--text", help="train on this UTF-8 file instead (last 10%% = validation)")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--name", help="output name (default: the recipe name)")
    ap.add_argument("--runs", default=os.path.join(HERE, "runs"))
    ap.add_argument("--models", default=os.path.join(REPO, "models"))
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--time-steps", type=int, default=0, help="pilot: time this many steps and stop")
    args = ap.parse_args()

    recipe = RECIPES[args.recipe]
    t = dict(recipe.train)
    if args.steps:
        t["steps"] = args.steps
    name = args.name or recipe.name
    run_dir = os.path.join(args.runs, name)
    os.makedirs(run_dir, exist_ok=True)

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)

    # ---- data ---------------------------------------------------------------------------
    if recipe.data == "arith":
        vocab = CharVocab(ARITH_CHARS)
        batches = ArithBatches(vocab, t["context"], t["batch"], args.seed)
        val_ids = None
    else:
        path = args.text or SHAKESPEARE
        with open(path, encoding="utf-8") as f:
            text = f.read()
        vocab = CharVocab.from_text(text)
        train_text, val_text = split(text)
        batches = TextBatches(torch.tensor(vocab.encode(train_text)), t["context"], t["batch"], args.seed)
        val_ids = torch.tensor(vocab.encode(val_text))

    # ---- model --------------------------------------------------------------------------
    cfg = recipe.model_config(len(vocab.chars))
    model = DepthModel(cfg)
    model.init_weights(torch.Generator().manual_seed(args.seed))
    if "halting_bias" in recipe.extras:
        with torch.no_grad():
            model.model.act_halting.bias.fill_(recipe.extras["halting_bias"])
    _, arch = resolve(model, recipe.train_arch, {"criterion": "none"} if recipe.train_arch == "recurrent" else {})
    _, infer_arch = resolve(model, cfg.default_arch(), {"criterion": "none"} if cfg.recurrent_depth else {})
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":  # everything above is built on the CPU (seeded generators), then moved
        model.to(device)
        torch.set_default_device(device)
        val_ids = val_ids.to(device) if val_ids is not None else None
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=t["lr"], betas=(0.9, 0.99))
    loop_g = torch.Generator().manual_seed(args.seed + 1)
    params = sum(p.numel() for p in model.parameters())

    start, elapsed = 0, 0.0
    ckpt_path = os.path.join(run_dir, "ckpt.pt")
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        start, elapsed = ck["step"], ck["elapsed"]
        batches_state = ck["batches"]
        if recipe.data == "arith":
            batches.rnd.setstate(batches_state)
        else:
            batches.g.set_state(batches_state)
        loop_g.set_state(ck["loop_g"])
    log = open(os.path.join(run_dir, "train.log"), "a")

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n")
        log.flush()

    say(f"{name}: {params} parameters, {t['steps']} steps of {t['batch']}x{t['context']} tokens, seed {args.seed}, "
        f"threads {args.threads}, starting at step {start}")
    csv_path = os.path.join(run_dir, "loss.csv")
    new_csv = start == 0 or not os.path.exists(csv_path)
    csv_file = open(csv_path, "w" if new_csv else "a", newline="")
    writer = csv.writer(csv_file)
    if new_csv:
        writer.writerow(["step", "tokens", "lr", "loss", "ce", "aux", "depth", "val_loss", "val_depth", "seconds"])

    def validate():
        model.eval()
        with torch.no_grad():
            if val_ids is not None:
                # a fixed 32-window slice of the validation split, inference semantics
                r = evaluate_ids(model, infer_arch, val_ids[: 32 * t["context"] + 1], t["context"])
                result = (r["nll"], r["mean_depth"])
            else:
                r = evaluate_arith(model, infer_arch, vocab, pairs=None)
                result = (1.0 - r["exact"], r["mean_steps_answer"])
        model.train()
        return result

    model.train()
    tic = time.time()
    for step in range(start, t["steps"]):
        lr = lr_at(step, t)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y, mask = (t_.to(device) if t_ is not None else None for t_ in batches.next())
        loss, ce, aux, stats = training_loss(model, arch, recipe, x, y, mask, loop_g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        now = elapsed + time.time() - tic
        last = step + 1 == t["steps"]
        val = ("", "")
        if (step + 1) % t["eval_every"] == 0 or last:
            val = validate()
        if step % 10 == 0 or val[0] != "":
            writer.writerow([step + 1, (step + 1) * t["batch"] * t["context"], f"{lr:.6g}", f"{loss.item():.5f}",
                             f"{ce.item():.5f}", f"{float(aux.detach()):.5f}", f"{stats['depth']:.3f}",
                             f"{val[0]:.5f}" if val[0] != "" else "", f"{val[1]:.3f}" if val[1] != "" else "",
                             f"{now:.1f}"])
            csv_file.flush()
        if step % 50 == 0 or val[0] != "":
            extra = " ".join(f"{k}={v:.3g}" for k, v in stats.items())
            say(f"step {step + 1}/{t['steps']} loss {loss.item():.4f} ce {ce.item():.4f} aux {float(aux.detach()):.4f} "
                f"{extra} lr {lr:.2e} {now:.0f}s" + (f" | val {val[0]:.4f} depth {val[1]:.2f}" if val[0] != "" else ""))
        if args.time_steps and step + 1 - start >= args.time_steps:
            say(f"pilot: {(time.time() - tic) / args.time_steps:.3f} s/step")
            return
        if (step + 1) % t["eval_every"] == 0 or last:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step + 1, "elapsed": now,
                        "batches": batches.rnd.getstate() if recipe.data == "arith" else batches.g.get_state(),
                        "loop_g": loop_g.get_state(), "recipe": recipe.name, "seed": args.seed,
                        "vocab": vocab.chars, "config": cfg.to_hf_dict()}, ckpt_path)
    elapsed = elapsed + time.time() - tic
    model.eval()

    # ---- final numbers and export ----------------------------------------------------------
    summary = {"recipe": recipe.name, "name": name, "seed": args.seed, "steps": t["steps"], "parameters": params,
               "tokens": t["steps"] * t["batch"] * t["context"], "train_seconds": round(elapsed, 1),
               "threads": args.threads}
    if val_ids is not None:
        summary["validation"] = evaluate_ids(model, infer_arch, val_ids, cfg.max_position_embeddings)
    else:
        summary["arith"] = evaluate_arith(model, infer_arch, vocab)
    say("summary " + json.dumps(summary))
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    if not args.no_export:
        out = os.path.join(args.models, name)
        export(model, vocab, out)
        say(f"exported {out}")


if __name__ == "__main__":
    main()
