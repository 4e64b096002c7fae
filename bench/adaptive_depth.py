"""Does skipped depth pay? Decode time per token against the fraction of depth steps run.

    python bench/adaptive_depth.py [--depthscope .build/release/depthscope] [--rounds 3]

For each architecture below, `depthscope bench --arch ... --json` (through Session, depth
traces on) reports decode tokens/s and the mean depth. The full-depth run of the same
policy (threshold 0 / max depth) is the reference: a policy that runs a fraction f of the
steps should take about f of its time per token (the issue asks for at most f + 0.1).
Rounds are interleaved; the time ratio is taken within each round and its median kept.
"""

import argparse
import json
import statistics
import subprocess

CASES = [
    # (model, label, arch, options); the first of each model is its full-depth reference.
    ("shakespeare-mor", "mor full depth (threshold 0)", "mor", ["threshold=0"]),
    ("shakespeare-mor", "mor threshold 0.3", "mor", ["threshold=0.3"]),
    ("shakespeare-mor", "mor threshold 0.5", "mor", ["threshold=0.5"]),
    ("shakespeare-mor", "mor threshold 0.7", "mor", ["threshold=0.7"]),
    ("shakespeare-mor", "mor threshold 0.9", "mor", ["threshold=0.9"]),
    ("shakespeare-vanilla", "early-exit full depth (min_depth = all)", "early-exit", ["criterion=cosine", "min_depth=6"]),
    ("shakespeare-vanilla", "early-exit cosine 0.9", "early-exit", ["criterion=cosine", "threshold=0.9"]),
    ("shakespeare-vanilla", "early-exit cosine 0.95", "early-exit", ["criterion=cosine", "threshold=0.95"]),
    ("shakespeare-vanilla", "early-exit softmax_max 0.5", "early-exit", ["criterion=softmax_max", "threshold=0.5"]),
]


def bench(binary, model, arch, options, tokens, runs):
    command = [binary, "bench", "--model", model, "--arch", arch, "--tokens", str(tokens), "--runs", str(runs),
               "--prompt-tokens", "16", "--json"]
    for option in options:
        command += ["--arch-option", option]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    return result["decode_tokens_per_second"], result["mean_depth"], result["max_depth"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depthscope", default=".build/release/depthscope")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    samples = {i: [] for i in range(len(CASES))}
    for _ in range(args.rounds):
        for i, (model, _, arch, options) in enumerate(CASES):
            samples[i].append(bench(args.depthscope, model, arch, options, args.tokens, args.runs))
    print("| model | policy | mean depth | f = depth fraction | decode tok/s | time / full-depth time | f + 0.1 |")
    print("|---|---|---|---|---|---|---|")
    reference = None
    for i, (model, label, _, _) in enumerate(CASES):
        rate = statistics.median(s[0] for s in samples[i])
        depth = statistics.median(s[1] for s in samples[i])
        full = samples[i][0][2]
        if i == 0 or CASES[i - 1][0] != model:
            reference = samples[i]
        f = depth / full
        # Time relative to the full-depth run of the same round (taken moments apart, so a
        # slow spell on the machine hits both), median over rounds.
        ratio = statistics.median(ref[0] / s[0] for ref, s in zip(reference, samples[i]))
        print(f"| {model} | {label} | {depth:.2f} of {full} | {f:.2f} | {rate:.0f} | {ratio:.2f} | {f + 0.1:.2f} |")


if __name__ == "__main__":
    main()
