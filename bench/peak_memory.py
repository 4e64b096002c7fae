#!/usr/bin/env python3
"""Peak resident memory of `depthscope generate` against weights + KV cache + 64 MB.

    python3 bench/peak_memory.py [--depthscope BIN] [--tokens 500] FILE_OR_FOLDER...

For each model it runs one greedy generation of --tokens tokens under /usr/bin/time, reads
the weight bytes in memory from `depthscope inspect`, computes the KV cache the run
allocates (layers x 2 x capacity x kv_dim x 4 bytes, plus a position per slot), and prints
a markdown row: peak, weights + KV, what is left of the 64 MB allowance.
"""
import argparse
import json
import re
import subprocess
import sys

PROMPT = "The quick brown fox jumps over the lazy dog."


def inspect(binary, model):
    out = subprocess.run([binary, "inspect", "--model", model], capture_output=True, text=True, check=True).stdout
    field = lambda pattern: re.search(pattern, out, re.M).group(1)
    return {
        "weights": int(field(r"^weight bytes\s+([\d,]+) in memory").replace(",", "")),
        "layers": int(field(r"^layers\s+(\d+)")),
        "kv_dim": int(field(r"(\d+) key/value")) * int(field(r"head_dim (\d+)")),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depthscope", default=".build/release/depthscope")
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    print("| model | weights MB | KV MB | peak RSS MB | peak - weights - KV | of 64 MB |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        info = inspect(args.depthscope, model)
        ids = json.loads(subprocess.run(
            [args.depthscope, "tokenize", "--model", model], input=PROMPT, capture_output=True, text=True, check=True).stdout)
        capacity = len(ids) + args.tokens
        kv = info["layers"] * capacity * (2 * info["kv_dim"] * 4 + 8)
        run = subprocess.run(
            ["/usr/bin/time", "-f", "peak_kb %M", args.depthscope, "generate", "--model", model, "--prompt", PROMPT,
             "-n", str(args.tokens), "--temperature", "0"], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"{model}: generate failed: {run.stderr.strip()}")
        peak = int(re.search(r"peak_kb (\d+)", run.stderr).group(1)) * 1024
        over = peak - info["weights"] - kv
        print(f"| {model} | {info['weights'] / 1e6:.1f} | {kv / 1e6:.1f} | {peak / 1e6:.1f} | {over / 1e6:.1f} MB | "
              f"{over / 64e6:.0%} |")


if __name__ == "__main__":
    main()
