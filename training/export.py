"""Re-export a trained checkpoint (training/runs/NAME/ckpt.pt) as an HF-style model folder,
without retraining:

    python training/export.py --run shakespeare-mor [--out models/shakespeare-mor]
        [--set recurrent_depth.exit_threshold=0.01 ...]

Writes config.json, model.safetensors (float16) and char_vocab.json. `--set` changes a key of
config.json (dotted path, JSON value), e.g. an inference default found after training.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import CharVocab  # noqa: E402
from depthscope_ref.config import ModelConfig  # noqa: E402
from depthscope_ref.model import DepthModel  # noqa: E402


def export(model: DepthModel, vocab: CharVocab, folder: str, dtype=torch.float16):
    model.save(folder, dtype, {"char_vocab.json": vocab.to_json()})


def apply_setting(config: dict, setting: str):
    key, _, value = setting.partition("=")
    *path, last = key.split(".")
    node = config
    for p in path:
        node = node.setdefault(p, {})
    node[last] = json.loads(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="name of the run folder under training/runs")
    ap.add_argument("--runs", default=os.path.join(HERE, "runs"))
    ap.add_argument("--out")
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    ck = torch.load(os.path.join(args.runs, args.run, "ckpt.pt"), map_location="cpu", weights_only=False)
    config = ck["config"]
    for s in args.set:
        apply_setting(config, s)
    model = DepthModel(ModelConfig.from_hf_dict(config))
    model.load_state_dict(ck["model"])
    out = args.out or os.path.join(os.path.dirname(HERE), "models", args.run)
    export(model.eval(), CharVocab(ck["vocab"]), out)
    print(f"exported {out} (step {ck['step']})")


if __name__ == "__main__":
    main()
