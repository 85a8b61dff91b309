"""Validation of the runtime spec (RuntimeSpec in packages/spec/src/runtime.ts), without third-party imports.

The checks mirror the Zod schema field by field so a bad spec fails here with the dotted path of the field,
before any heavy library is imported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from .errors import PermanentError, SpecError

Check = Callable[[Any, str], Any]

RUNTIME_MODES = ("pretrain", "sft", "dpo", "rag_tuning", "embedding", "reward", "ppo", "eval", "synthetic")
IMPLEMENTED_MODES = ("pretrain", "sft", "dpo", "synthetic")
JOB_TYPES = ("PRETRAIN", "SFT", "RAG_TUNING", "RLHF", "EMBEDDING")
DATASET_TYPES = ("pretrain_corpus", "sft_pair", "rag_qa", "rlhf_pair", "embedding_pair")
DATASET_TYPE_FOR_MODE = {"pretrain": "pretrain_corpus", "sft": "sft_pair", "dpo": "rlhf_pair"}
METHODS = ("full", "lora", "qlora")
PRECISIONS = ("fp16", "bf16")
SAVE_FORMATS = ("hf", "safetensors")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def string() -> Check:
    def check(v: Any, path: str) -> str:
        if not isinstance(v, str):
            raise SpecError(path, f"expected a string, got {_type_name(v)}")
        if not v:
            raise SpecError(path, "must not be empty")
        return v

    return check


def boolean() -> Check:
    def check(v: Any, path: str) -> bool:
        if not isinstance(v, bool):
            raise SpecError(path, f"expected a boolean, got {_type_name(v)}")
        return v

    return check


def number(*, positive: bool = False, lo: float | None = None, hi: float | None = None, integer: bool = False) -> Check:
    def check(v: Any, path: str) -> float | int:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SpecError(path, f"expected a number, got {_type_name(v)}")
        if integer:
            if isinstance(v, float) and not v.is_integer():
                raise SpecError(path, f"expected an integer, got {v}")
            v = int(v)
        if positive and v <= 0:
            raise SpecError(path, f"must be greater than 0, got {v}")
        if lo is not None and v < lo:
            raise SpecError(path, f"must be at least {lo}, got {v}")
        if hi is not None and v > hi:
            raise SpecError(path, f"must be at most {hi}, got {v}")
        return v

    return check


def integer(*, positive: bool = False, lo: int | None = None, hi: int | None = None) -> Check:
    return number(positive=positive, lo=lo, hi=hi, integer=True)


def enum(values: tuple[str, ...]) -> Check:
    def check(v: Any, path: str) -> str:
        if v not in values:
            raise SpecError(path, f"expected one of {', '.join(values)}, got {json.dumps(v)}")
        return v

    return check


def nullable(inner: Check) -> Check:
    def check(v: Any, path: str) -> Any:
        return None if v is None else inner(v, path)

    return check


def obj(fields: dict[str, Check]) -> Check:
    """A strict object: every field is required (nullable ones may be null) and no other key is allowed."""

    def check(v: Any, path: str) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise SpecError(path, f"expected an object, got {_type_name(v)}")
        prefix = f"{path}." if path else ""
        unknown = sorted(set(v) - set(fields))
        if unknown:
            raise SpecError(f"{prefix}{unknown[0]}", "unknown field")
        out: dict[str, Any] = {}
        for name, field_check in fields.items():
            if name not in v:
                raise SpecError(f"{prefix}{name}", "required field is missing")
            out[name] = field_check(v[name], f"{prefix}{name}")
        return out

    return check


_TINY_MODEL = obj(
    {
        "vocab_size": integer(lo=16, hi=65536),
        "hidden_size": integer(lo=8, hi=4096),
        "intermediate_size": integer(lo=8, hi=16384),
        "num_hidden_layers": integer(lo=1, hi=64),
        "num_attention_heads": integer(lo=1, hi=64),
        "max_position_embeddings": integer(lo=16, hi=131072),
    }
)

RUNTIME_SPEC = obj(
    {
        "job_id": string(),
        "attempt": integer(lo=1),
        "mode": enum(RUNTIME_MODES),
        "job_type": enum(JOB_TYPES),
        "model": obj(
            {
                "family": string(),
                "base_model_path": nullable(string()),
                "init_config": nullable(_TINY_MODEL),
                "tokenizer_path": nullable(string()),
            }
        ),
        "dataset": obj({"path": string(), "type": enum(DATASET_TYPES), "sha256": nullable(string())}),
        "hyperparams": obj(
            {
                "lr": number(positive=True),
                "batch_size": integer(positive=True),
                "num_epochs": integer(positive=True),
                "max_seq_len": integer(positive=True),
                "precision": enum(PRECISIONS),
                "max_steps": nullable(integer(positive=True)),
                "seed": integer(lo=0),
            }
        ),
        "method": enum(METHODS),
        "lora": nullable(
            obj({"r": integer(positive=True), "alpha": number(positive=True), "dropout": number(lo=0, hi=1)})
        ),
        "dpo": nullable(obj({"beta": number(positive=True)})),
        "checkpoint": obj(
            {
                "dir": string(),
                "every_n_steps": integer(positive=True),
                "resume_from": nullable(string()),
                "keep_last": integer(positive=True),
            }
        ),
        "output": obj({"dir": string(), "artifact_name": string(), "save_format": enum(SAVE_FORMATS)}),
        "use_gpu": boolean(),
        "synthetic": nullable(obj({"steps": integer(positive=True), "step_ms": integer(lo=0)})),
    }
)


def validate_spec(raw: Any) -> dict[str, Any]:
    """Schema check, then the cross-field rules this runtime needs; raises SpecError naming the field."""
    spec: dict[str, Any] = RUNTIME_SPEC(raw, "")
    mode = spec["mode"]
    if mode not in IMPLEMENTED_MODES:
        raise PermanentError(f"mode '{mode}' is not implemented in this runtime version")
    if mode == "synthetic":
        if spec["synthetic"] is None:
            raise SpecError("synthetic", "required when mode is synthetic")
        return spec
    expected = DATASET_TYPE_FOR_MODE[mode]
    if spec["dataset"]["type"] != expected:
        raise SpecError("dataset.type", f"mode {mode} trains on {expected}, got {spec['dataset']['type']}")
    model = spec["model"]
    if mode == "pretrain" and model["base_model_path"] is None and model["init_config"] is None:
        raise SpecError("model.init_config", "required when model.base_model_path is null")
    if mode in ("sft", "dpo") and model["base_model_path"] is None:
        raise SpecError("model.base_model_path", f"required for mode {mode}")
    if spec["method"] in ("lora", "qlora") and spec["lora"] is None:
        raise SpecError("lora", f"required when method is {spec['method']}")
    cfg = model["init_config"]
    if cfg is not None and cfg["hidden_size"] % cfg["num_attention_heads"] != 0:
        raise SpecError(
            "model.init_config.hidden_size",
            f"must be a multiple of num_attention_heads ({cfg['num_attention_heads']}), got {cfg['hidden_size']}",
        )
    return spec


def load_spec(path: str | None) -> dict[str, Any]:
    if not path:
        raise SpecError("", "environment variable LLMOPS_SPEC must name the spec file")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise SpecError("", f"spec file {path} does not exist (LLMOPS_SPEC)") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError("", f"spec file {path} is not valid JSON: {e}") from None
    return validate_spec(raw)
