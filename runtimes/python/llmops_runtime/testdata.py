"""Tiny generated datasets and specs for tests, smoke runs and trying the runtime by hand (no downloads).

python -m llmops_runtime.testdata DIR   # writes corpus/sft/dpo files and one spec per mode into DIR
"""

from __future__ import annotations

import copy
import json
import os
import random
import sys
from typing import Any

_ANIMALS = ["cat", "dog", "fox", "owl", "bee", "cow", "hen", "eel"]
_COLOURS = ["red", "blue", "green", "black", "white", "brown"]
_VERBS = ["sees", "likes", "follows", "greets", "watches"]
_PLACES = ["the barn", "the river", "the hill", "the forest", "the garden"]


def sentence(rng: random.Random) -> str:
    a, b = rng.sample(_ANIMALS, 2)
    return f"the {rng.choice(_COLOURS)} {a} {rng.choice(_VERBS)} the {b} near {rng.choice(_PLACES)}."


def _write_jsonl(path: str, rows: list[dict[str, Any]]) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def write_pretrain_corpus(path: str, rows: int = 200, seed: int = 0) -> str:
    rng = random.Random(seed)
    return _write_jsonl(path, [{"text": " ".join(sentence(rng) for _ in range(3))} for _ in range(rows)])


def write_sft_pairs(path: str, rows: int = 64, seed: int = 0) -> str:
    """Mixes the three sft_pair formats: instruction, prompt/completion and chat messages."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(rows):
        animal = rng.choice(_ANIMALS)
        colour = rng.choice(_COLOURS)
        answer = f"the {animal} is {colour}."
        if i % 3 == 0:
            out.append({"instruction": "what colour is the animal?", "input": f"a {colour} {animal}", "output": answer})
        elif i % 3 == 1:
            out.append({"prompt": f"describe the {colour} {animal}:", "completion": answer})
        else:
            out.append(
                {
                    "messages": [
                        {"role": "user", "content": f"tell me about the {colour} {animal}"},
                        {"role": "assistant", "content": answer},
                    ]
                }
            )
    return _write_jsonl(path, out)


def write_rlhf_pairs(path: str, rows: int = 32, seed: int = 0) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(rows):
        animal = rng.choice(_ANIMALS)
        out.append(
            {
                "prompt": f"is the {animal} friendly?",
                "chosen": f"yes, the {animal} is friendly.",
                "rejected": f"the {rng.choice(_PLACES)} {rng.choice(_VERBS)}.",
            }
        )
    return _write_jsonl(path, out)


TINY_LLAMA = {
    "vocab_size": 320,
    "hidden_size": 48,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 128,
}


def make_spec(mode: str, workdir: str, dataset_path: str, **overrides: Any) -> dict[str, Any]:
    """A valid RuntimeSpec for `mode` with everything under workdir; `overrides` replace top-level keys
    (dict values are merged one level deep)."""
    dataset_type = {"pretrain": "pretrain_corpus", "sft": "sft_pair", "dpo": "rlhf_pair"}.get(mode, "pretrain_corpus")
    job_type = {"pretrain": "PRETRAIN", "sft": "SFT", "dpo": "RLHF"}.get(mode, "PRETRAIN")
    spec: dict[str, Any] = {
        "job_id": f"job-{mode}",
        "attempt": 1,
        "mode": mode,
        "job_type": job_type,
        "model": {
            "family": "llama",
            "base_model_path": None,
            "init_config": copy.deepcopy(TINY_LLAMA) if mode in ("pretrain", "synthetic") else None,
            "tokenizer_path": None,
        },
        "dataset": {"path": dataset_path, "type": dataset_type, "sha256": None},
        "hyperparams": {
            "lr": 3e-3,
            "batch_size": 8,
            "num_epochs": 1,
            "max_seq_len": 64,
            "precision": "bf16",
            "max_steps": 30,
            "seed": 7,
        },
        "method": "full",
        "lora": None,
        "dpo": None,
        "checkpoint": {
            "dir": os.path.join(workdir, "checkpoints"),
            "every_n_steps": 10,
            "resume_from": None,
            "keep_last": 2,
        },
        "output": {
            "dir": os.path.join(workdir, "output"),
            "artifact_name": f"tiny-{mode}",
            "save_format": "safetensors",
        },
        "use_gpu": False,
        "synthetic": {"steps": 20, "step_ms": 10} if mode == "synthetic" else None,
    }
    for key, value in overrides.items():
        spec[key] = {**spec[key], **value} if isinstance(value, dict) and isinstance(spec.get(key), dict) else value
    return spec


def write_demo(directory: str) -> dict[str, str]:
    """Datasets plus a spec per mode; the sft and dpo specs start from the pretrain run's output."""
    d = os.path.abspath(directory)
    corpus = write_pretrain_corpus(os.path.join(d, "data", "corpus.jsonl"))
    sft = write_sft_pairs(os.path.join(d, "data", "sft.jsonl"))
    dpo = write_rlhf_pairs(os.path.join(d, "data", "dpo.jsonl"))
    base = os.path.join(d, "pretrain", "output")
    specs = {
        "pretrain": make_spec("pretrain", os.path.join(d, "pretrain"), corpus),
        "sft": make_spec(
            "sft",
            os.path.join(d, "sft"),
            sft,
            model={"base_model_path": base},
            method="lora",
            lora={"r": 8, "alpha": 16, "dropout": 0.0},
        ),
        "dpo": make_spec("dpo", os.path.join(d, "dpo"), dpo, model={"base_model_path": base}, dpo={"beta": 0.1}),
        "synthetic": make_spec("synthetic", os.path.join(d, "synthetic"), corpus),
    }
    paths = {}
    for mode, spec in specs.items():
        paths[mode] = os.path.join(d, f"{mode}.spec.json")
        with open(paths[mode], "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=2)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m llmops_runtime.testdata DIR")
    for mode, path in write_demo(sys.argv[1]).items():
        print(f"{mode}: LLMOPS_SPEC={path}")
