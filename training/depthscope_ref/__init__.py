"""depthscope's PyTorch reference of every adaptive-depth architecture.

The contract is docs/architectures.md. Two paths compute the same thing:
  incremental.py  token by token with per-step KV caches: the ground truth for fixtures;
  parallel.py     whole sequences at once: used for training and evaluation.
tests in training/test_ref.py check that they agree.
"""
