"""The model configuration: an HF Llama config.json plus depthscope's adaptive-depth objects."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

ALL_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SHARINGS = ["cycle", "sequence", "middle_cycle"]


@dataclass
class ModelConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int | None = None
    head_dim: int | None = None
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 256
    tie_word_embeddings: bool = False
    # adaptive-depth objects, kept as plain dicts exactly as they appear in config.json
    recursive: dict | None = None
    relaxation: dict | None = None
    mor: dict | None = None
    early_exit: dict | None = None
    act: dict | None = None
    recurrent_depth: dict | None = None
    extra: dict = field(default_factory=dict)  # anything else to write back (bos ids, notes)

    def __post_init__(self):
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads

    # ---- derived values -------------------------------------------------------------
    @property
    def num_recursion(self) -> int:
        return int((self.recursive or {}).get("num_recursion", 1))

    @property
    def sharing(self) -> str:
        return (self.recursive or {}).get("sharing", "cycle")

    @property
    def lora_targets(self) -> list[str]:
        return list((self.relaxation or {}).get("target_modules", ALL_TARGETS))

    @property
    def lora_rank(self) -> int:
        return int((self.relaxation or {}).get("lora_rank", 0))

    @property
    def lora_scaling(self) -> float:
        r = self.lora_rank
        return float((self.relaxation or {}).get("lora_alpha", r)) / r if r else 0.0

    def shared_layers(self) -> list[int]:
        """Stored layers that are looped (and get LoRA)."""
        n = self.num_hidden_layers
        return list(range(1, n - 1)) if self.sharing == "middle_cycle" else list(range(n))

    def default_arch(self) -> str:
        if self.mor:
            return "mor"
        if self.act:
            return "ut"
        if self.recurrent_depth:
            return "recurrent"
        if self.relaxation:
            return "relaxed"
        if self.recursive:
            return "recursive"
        return "vanilla"

    # ---- json -----------------------------------------------------------------------
    def to_hf_dict(self, dtype: str = "float32") -> dict:
        d = {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "max_position_embeddings": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": False,
            "mlp_bias": False,
            "torch_dtype": dtype,
            "bos_token_id": None,
            "eos_token_id": None,
        }
        for key in ("recursive", "relaxation", "mor", "early_exit", "act", "recurrent_depth"):
            value = getattr(self, key)
            if value is not None:
                d[key] = copy.deepcopy(value)
        d.update(copy.deepcopy(self.extra))
        return d

    @classmethod
    def from_hf_dict(cls, d: dict) -> "ModelConfig":
        rope_theta = d.get("rope_theta")
        if rope_theta is None:
            rope_theta = (d.get("rope_parameters") or {}).get("rope_theta", 10000.0)
        return cls(
            vocab_size=d["vocab_size"],
            hidden_size=d["hidden_size"],
            intermediate_size=d["intermediate_size"],
            num_hidden_layers=d["num_hidden_layers"],
            num_attention_heads=d["num_attention_heads"],
            num_key_value_heads=d.get("num_key_value_heads"),
            head_dim=d.get("head_dim"),
            rms_norm_eps=d.get("rms_norm_eps", 1e-6),
            rope_theta=rope_theta,
            max_position_embeddings=d.get("max_position_embeddings", 2048),
            tie_word_embeddings=d.get("tie_word_embeddings", False),
            recursive=d.get("recursive"),
            relaxation=d.get("relaxation"),
            mor=d.get("mor"),
            early_exit=d.get("early_exit"),
            act=d.get("act"),
            recurrent_depth=d.get("recurrent_depth"),
        )

    @classmethod
    def load(cls, path: str) -> "ModelConfig":
        with open(path) as f:
            return cls.from_hf_dict(json.load(f))
