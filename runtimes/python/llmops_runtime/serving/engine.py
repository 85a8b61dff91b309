"""The model behind the server: loading a model folder, counting tokens, generating and embedding."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..tokenizer import DEFAULT_CHAT_TEMPLATE, load_tokenizer


class ModelFolderError(Exception):
    """The model folder is missing or cannot be loaded; the server exits with EXIT_BAD_MODEL."""


_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


def check_model_folder(path: str) -> None:
    """Quick checks that need no torch, so a wrong path fails at once with a message naming what is missing."""
    if not os.path.exists(path):
        raise ModelFolderError(f"model folder {path} does not exist")
    if not os.path.isdir(path):
        raise ModelFolderError(f"model folder {path} is not a directory")
    config = os.path.join(path, "config.json")
    if not os.path.isfile(config):
        raise ModelFolderError(f"model folder {path} has no config.json: not a Hugging Face model folder")
    try:
        with open(config, encoding="utf-8") as f:
            json.load(f)
    except (OSError, ValueError) as e:
        raise ModelFolderError(f"model folder {path}: config.json is not valid JSON ({e})") from None
    if not any(os.path.isfile(os.path.join(path, name)) for name in _TOKENIZER_FILES):
        raise ModelFolderError(
            f"model folder {path} has no tokenizer (expected tokenizer.json or tokenizer_config.json)"
        )


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length"


@dataclass
class Sampling:
    max_new_tokens: int
    temperature: float
    top_p: float
    stop: list[str]


def _cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)


class Engine:
    """One model and its tokenizer. Loading is separate from construction so the server can answer /health
    while it loads. Inference runs in the server's worker threads; torch's forward passes are thread-safe."""

    def __init__(self, model_dir: str, threads: int | None = None) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self.model: Any = None
        self.tokenizer: Any = None
        self.chat_template: str = DEFAULT_CHAT_TEMPLATE
        self.max_positions: int | None = None
        self._ready = threading.Event()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        from ..compat import patch_transformers_for_torch1

        patch_transformers_for_torch1()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            tokenizer = load_tokenizer(self.model_dir)
            model = AutoModelForCausalLM.from_pretrained(self.model_dir, torch_dtype=torch.float32)
        except Exception as e:  # noqa: BLE001 — any failure to load means the folder is unusable
            detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
            if len(detail) > 300:
                detail = detail[:300] + "…"
            raise ModelFolderError(f"cannot load the model in {self.model_dir}: {type(e).__name__}: {detail}") from e
        model.eval()
        self.model = model
        self.tokenizer = tokenizer
        self.chat_template = getattr(tokenizer, "chat_template", None) or DEFAULT_CHAT_TEMPLATE
        self.max_positions = getattr(model.config, "max_position_embeddings", None)
        self._ready.set()

    # --- tokens -------------------------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=True)["input_ids"])

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, chat_template=self.chat_template
        )

    # --- generation ---------------------------------------------------------------------------------------

    def _generate_kwargs(self, ids: list[int], sampling: Sampling) -> dict[str, Any]:
        import torch

        input_ids = torch.tensor([ids], dtype=torch.long)
        kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "max_new_tokens": sampling.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.tokenizer.eos_token_id,
        }
        if sampling.temperature <= 0:
            kwargs["do_sample"] = False  # greedy: the same prompt always gives the same answer
        else:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        return kwargs

    def generate(self, ids: list[int], sampling: Sampling) -> Generation:
        import torch

        with torch.no_grad():
            out = self.model.generate(**self._generate_kwargs(ids, sampling))
        new = out[0][len(ids) :].tolist()
        eos = self.tokenizer.eos_token_id
        ended = eos is not None and len(new) > 0 and new[-1] == eos
        if ended:
            new = new[:-1]
        text, stopped = _cut_at_stop(self.tokenizer.decode(new, skip_special_tokens=True), sampling.stop)
        finish = "stop" if ended or stopped or len(new) < sampling.max_new_tokens else "length"
        return Generation(text, len(ids), len(new), finish)

    def stream(self, ids: list[int], sampling: Sampling) -> Iterator[tuple[str, Generation | None]]:
        """Yields (text piece, None) while generating, then ("", the summary) once."""
        import torch
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                with torch.no_grad():
                    result["out"] = self.model.generate(**self._generate_kwargs(ids, sampling), streamer=streamer)
            except Exception as e:  # noqa: BLE001 — handed to the reading thread
                result["error"] = e
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        sent = ""
        stopped = False
        for piece in streamer:
            if stopped or not piece:
                continue
            candidate, stopped = _cut_at_stop(sent + piece, sampling.stop)
            if len(candidate) > len(sent):
                yield candidate[len(sent) :], None
            sent = candidate
        worker.join()
        if "error" in result:
            raise result["error"]
        new = result["out"][0][len(ids) :].tolist()
        eos = self.tokenizer.eos_token_id
        ended = eos is not None and len(new) > 0 and new[-1] == eos
        if ended:
            new = new[:-1]
        finish = "stop" if ended or stopped or len(new) < sampling.max_new_tokens else "length"
        yield "", Generation(sent, len(ids), len(new), finish)

    # --- embeddings ---------------------------------------------------------------------------------------

    def embed(self, ids: list[int]) -> list[float]:
        """Mean of the last hidden layer over the tokens, L2-normalised (cosine similarity = dot product)."""
        import torch

        input_ids = torch.tensor([ids], dtype=torch.long)
        with torch.no_grad():
            out = self.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), output_hidden_states=True)
        pooled = out.hidden_states[-1][0].mean(dim=0)
        pooled = pooled / pooled.norm().clamp(min=1e-12)
        return [float(x) for x in pooled.tolist()]
