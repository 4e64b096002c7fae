"""depthscope against llama.cpp (llama-cpp-python) and PyTorch on the same random checkpoints.

    python bench/compare.py --depthscope .build/release/depthscope [--shapes 288x6x6x768,...]
        [--threads 1,2] [--dtypes f32,f16,q8_0] [--rounds 3] [--tokens 64] [--prompt 128] [--out bench/out]

Shapes are DIMxLAYERSxHEADSxFFN[:kvKV][:vVOCAB] (e.g. 576x30x9x1536:kv3:v49152, SmolLM2-135M's);
dtypes are f32, f16, q8_0 (written by gguf-py) or llama.cpp file types (q4_0, q4_k_m, q5_k_m,
q6_k, ...: quantised by llama.cpp's own quantiser). For every shape it writes one random
checkpoint (bench/random_checkpoint.py) as a GGUF file per dtype (and as safetensors for
PyTorch's f32 rows); depthscope and llama.cpp run the same file. For every dtype and thread
count it runs the engines interleaved, round after
round (depthscope, llama.cpp, torch, depthscope, ...), so a slow spell on this shared machine
hits all of them alike. Each engine measures the same things as `depthscope bench`: decode
tokens/s at batch 1 from an empty context (median of runs of --tokens random ids) and
prompt processing of --prompt tokens at once (median of as many runs). The table shows
medians over rounds and the ratios depthscope / peer; --json-out keeps every number.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import random_checkpoint  # noqa: E402


def token_ids(count, vocab, seed):
    rng = np.random.default_rng(seed)
    return [int(t) for t in rng.integers(3, vocab, size=count)]


def run_depthscope(binary, path, threads, tokens, prompt, runs):
    command = [binary, "bench", "--model", path, "--threads", str(threads),
               "--tokens", str(tokens), "--prompt-tokens", str(prompt), "--runs", str(runs), "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return {"decode": result["decode_tokens_per_second"], "prompt": result["prompt_tokens_per_second"],
            "bandwidth_gbs": result["bandwidth_gb_per_second"],
            "bound_fraction": result["bound_fraction"], "bound": result["bound_tokens_per_second"]}


class LlamaCpp:
    def __init__(self, path, threads, context):
        from llama_cpp import Llama

        self.llm = Llama(model_path=path, n_ctx=context, n_threads=threads, n_threads_batch=threads, n_batch=512,
                         n_ubatch=512, verbose=False, use_mmap=True)
        self.vocab = self.llm.n_vocab()

    def measure(self, tokens, prompt, runs):
        ids = token_ids(tokens, self.vocab, 1)
        prompt_ids = token_ids(prompt, self.vocab, 2)
        self.llm.reset()
        self.llm.eval(prompt_ids[:8])  # warm-up
        rates = []
        for _ in range(runs):
            self.llm.reset()
            start = time.perf_counter()
            for t in ids:
                self.llm.eval([t])
            rates.append(tokens / (time.perf_counter() - start))
        prompt_rates = []
        for _ in range(runs):
            self.llm.reset()
            start = time.perf_counter()
            self.llm.eval(prompt_ids)
            prompt_rates.append(prompt / (time.perf_counter() - start))
        return {"decode": statistics.median(rates), "prompt": statistics.median(prompt_rates)}


class Torch:
    def __init__(self, folder, threads):
        import torch
        from transformers import LlamaForCausalLM

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
        self.vocab = self.model.config.vocab_size

    def measure(self, tokens, prompt, runs):
        torch = self.torch
        ids = token_ids(tokens, self.vocab, 1)
        prompt_ids = token_ids(prompt, self.vocab, 2)
        rates = []
        with torch.inference_mode():
            self.model(torch.tensor([prompt_ids[:8]]), use_cache=True)  # warm-up
            for _ in range(runs):
                past = None
                start = time.perf_counter()
                for t in ids:
                    out = self.model(torch.tensor([[t]]), past_key_values=past, use_cache=True)
                    past = out.past_key_values
                rates.append(tokens / (time.perf_counter() - start))
            prompt_rates = []
            for _ in range(runs):
                start = time.perf_counter()
                self.model(torch.tensor([prompt_ids]), use_cache=True)
                prompt_rates.append(prompt / (time.perf_counter() - start))
        return {"decode": statistics.median(rates), "prompt": statistics.median(prompt_rates)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depthscope", default=".build/release/depthscope")
    parser.add_argument("--baseline", default=None,
                        help="a second depthscope binary (e.g. a build of an earlier commit) run interleaved: "
                             "the table adds its speeds and depthscope's ratio to them")
    parser.add_argument("--shapes", default="288x6x6x768,512x8x8x1376,768x12x12x2048")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--dtypes", default="f32,f16,q8_0")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()

    dtypes = args.dtypes.split(",")
    rows = []
    for shape in args.shapes.split(","):
        s = random_checkpoint.Shape(shape)
        folder = os.path.join(args.out, f"random-{shape.replace(':', '-')}")
        wants_hf = "f32" in dtypes and not args.no_torch
        missing = [d for d in dtypes if not os.path.exists(f"{folder}-{d}.gguf")]
        if missing or (wants_hf and not os.path.exists(os.path.join(folder, "model.safetensors"))):
            print(f"writing {folder} (GGUF {','.join(missing)})", file=sys.stderr)
            tensors = random_checkpoint.make_weights(s.dim, s.layers, s.heads, s.ffn, s.vocab, kv_heads=s.kv_heads)
            if wants_hf:
                random_checkpoint.write_hf(folder, tensors, s.dim, s.layers, s.heads, s.ffn, s.vocab, 2048, s.kv_heads)
            for d in missing:
                random_checkpoint.write_gguf(f"{folder}-{d}.gguf", tensors, s.dim, s.layers, s.heads, s.ffn, s.vocab,
                                             2048, d, s.kv_heads)
            del tensors
        context = args.prompt + args.tokens + 8
        for dtype in dtypes:
            for threads in [int(t) for t in args.threads.split(",")]:
                llama = LlamaCpp(f"{folder}-{dtype}.gguf", threads, max(context, 256))
                torch_engine = Torch(folder, threads) if dtype == "f32" and not args.no_torch else None
                samples = {"depthscope": [], "llama.cpp": [], "torch": [], "baseline": []}
                for _ in range(args.rounds):
                    samples["depthscope"].append(run_depthscope(
                        args.depthscope, f"{folder}-{dtype}.gguf", threads, args.tokens, args.prompt, args.runs))
                    if args.baseline:
                        samples["baseline"].append(run_depthscope(
                            args.baseline, f"{folder}-{dtype}.gguf", threads, args.tokens, args.prompt, args.runs))
                    samples["llama.cpp"].append(llama.measure(args.tokens, args.prompt, args.runs))
                    if torch_engine:
                        samples["torch"].append(torch_engine.measure(args.tokens, args.prompt, args.runs))
                del llama, torch_engine
                row = {"shape": shape, "dtype": dtype, "threads": threads}
                for engine, results in samples.items():
                    if results:
                        row[engine] = {k: statistics.median(r[k] for r in results) for k in ("decode", "prompt")}
                row["bound_fraction"] = statistics.median(r["bound_fraction"] for r in samples["depthscope"])
                row["bandwidth_gbs"] = statistics.median(r["bandwidth_gbs"] for r in samples["depthscope"])
                row["samples"] = samples
                rows.append(row)
                print_row(row, header=len(rows) == 1)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(rows, f, indent=1)


def print_row(row, header):
    base = row.get("baseline")
    if header:
        print("| shape | dtype | thr | depthscope decode tok/s | llama.cpp | ratio | torch | ratio "
              "| of bw bound | depthscope pp128 tok/s | llama.cpp | ratio |"
              + (" baseline decode | ratio | baseline pp | ratio |" if base else ""))
        print("|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|---|---|" if base else ""))
    ds, ll, th = row["depthscope"], row["llama.cpp"], row.get("torch")
    torch_cells = f"{th['decode']:.1f} | {ds['decode'] / th['decode']:.2f}x" if th else "- | -"
    base_cells = (f" {base['decode']:.1f} | {ds['decode'] / base['decode']:.2f}x | {base['prompt']:.0f} | "
                  f"{ds['prompt'] / base['prompt']:.2f}x |") if base else ""
    print(f"| {row['shape']} | {row['dtype']} | {row['threads']} | {ds['decode']:.1f} | {ll['decode']:.1f} | "
          f"{ds['decode'] / ll['decode']:.2f}x | {torch_cells} | {100 * row['bound_fraction']:.0f}% | "
          f"{ds['prompt']:.0f} | {ll['prompt']:.0f} | {ds['prompt'] / ll['prompt']:.2f}x |" + base_cells, flush=True)


if __name__ == "__main__":
    main()
