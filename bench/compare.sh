#!/usr/bin/env bash
# Peer comparison: depthscope vs llama.cpp (llama-cpp-python, compiled here for this CPU)
# and PyTorch CPU (transformers) on random Llama checkpoints; see bench/compare.py.
#
#   bench/compare.sh [compare.py options, e.g. --shapes 288x6x6x768 --threads 1,2]
#
# Installs what is missing from the package registries (llama-cpp-python compiles llama.cpp:
# many minutes on 2 cores), builds depthscope in release mode, and prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import llama_cpp" 2>/dev/null ||
    CMAKE_ARGS="-DGGML_NATIVE=ON" pip install llama-cpp-python
python3 -c "import gguf, safetensors, transformers" 2>/dev/null || pip install gguf safetensors transformers
python3 -c "import torch" 2>/dev/null || pip install "torch==2.13.0+cpu"   # CPU wheel, no CUDA (DESIGN.md)

swift build -c release --product depthscope >&2
python3 bench/compare.py --depthscope .build/release/depthscope "$@"
