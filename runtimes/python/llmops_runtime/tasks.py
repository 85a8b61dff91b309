"""What each real mode trains: model, tokenized examples, batches, loss and how weights are saved.

The loop in training.py is shared; a task only knows its data and its loss. DPO delegates preference
tokenisation, the reference model and the loss to trl's DPOTrainer, while the runtime keeps the loop.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from typing import Any

import torch

from .errors import PermanentError
from .events import EventSink
from .tokenizer import DEFAULT_CHAT_TEMPLATE, build_bpe_tokenizer, load_tokenizer

Item = dict[str, Any]


def _is_model_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "config.json"))


def load_base_model(path: str) -> Any:
    from transformers import AutoModelForCausalLM

    if not _is_model_dir(path):
        raise PermanentError(f"model.base_model_path: {path} is not a model directory (no config.json)")
    return AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)


def _clear_weights(directory: str) -> None:
    """A retried attempt may have left weights in the other format; loaders would pick the stale ones."""
    for pattern in ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json"):
        for path in glob.glob(os.path.join(directory, pattern)):
            os.remove(path)


class CausalTask:
    """Next-token loss on `input_ids` with `labels` (-100 where no loss is taken): pretrain and SFT."""

    def __init__(self, spec: dict[str, Any], sink: EventSink, model: Any, tokenizer: Any, device: Any) -> None:
        self.spec = spec
        self.sink = sink
        self.tokenizer = tokenizer
        self.device = device
        self.is_lora = spec["method"] in ("lora", "qlora") and spec["mode"] != "pretrain"
        self.model = self._wrap_lora(model) if self.is_lora else model
        self.model.to(device)
        self.train: list[Item] = []
        self.eval: list[Item] = []

    def _wrap_lora(self, model: Any) -> Any:
        from peft import LoraConfig, get_peft_model

        lora = self.spec["lora"]
        if self.spec["method"] == "qlora":
            self.sink.log(
                "warning",
                "qlora needs 4-bit kernels (bitsandbytes on CUDA) that this runtime does not load: training LoRA "
                "on full-precision weights instead",
            )
        config = LoraConfig(
            r=lora["r"],
            lora_alpha=lora["alpha"],
            lora_dropout=lora["dropout"],
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
        return get_peft_model(model, config)

    # ---- batches and loss
    def collate(self, items: list[Item]) -> dict[str, Any]:
        width = max(len(i["input_ids"]) for i in items)
        pad = self.tokenizer.pad_token_id
        ids = [i["input_ids"] + [pad] * (width - len(i["input_ids"])) for i in items]
        labels = [i["labels"] + [-100] * (width - len(i["labels"])) for i in items]
        mask = [[1] * len(i["input_ids"]) + [0] * (width - len(i["input_ids"])) for i in items]
        return {
            "input_ids": torch.tensor(ids, device=self.device),
            "labels": torch.tensor(labels, device=self.device),
            "attention_mask": torch.tensor(mask, device=self.device),
        }

    def loss(self, batch: dict[str, Any], train: bool) -> tuple[Any, dict[str, float], int]:
        out = self.model(**batch)
        return out.loss, {}, int(batch["attention_mask"].sum().item())

    # ---- weights
    def _trainable_state(self) -> dict[str, Any]:
        if self.is_lora:
            from peft import get_peft_model_state_dict

            return dict(get_peft_model_state_dict(self.model))
        return dict(self.model.state_dict())

    def save_weights(self, directory: str) -> None:
        torch.save(self._trainable_state(), os.path.join(directory, "adapter.pt" if self.is_lora else "model.pt"))
        self.tokenizer.save_pretrained(os.path.join(directory, "tokenizer"))

    def load_weights(self, directory: str) -> None:
        if self.is_lora:
            from peft import set_peft_model_state_dict

            state = torch.load(os.path.join(directory, "adapter.pt"), map_location=self.device)
            set_peft_model_state_dict(self.model, state)
        else:
            state = torch.load(os.path.join(directory, "model.pt"), map_location=self.device)
            self.model.load_state_dict(state)

    def save_final(self, out_dir: str, fmt: str) -> None:
        safe = fmt == "safetensors"
        os.makedirs(out_dir, exist_ok=True)
        _clear_weights(out_dir)
        model = self.model
        if self.is_lora:
            adapter_dir = os.path.join(out_dir, "adapter")
            shutil.rmtree(adapter_dir, ignore_errors=True)
            model.save_pretrained(adapter_dir, safe_serialization=safe)
            model = model.merge_and_unload()
        model.save_pretrained(out_dir, safe_serialization=safe)
        self.tokenizer.save_pretrained(out_dir)


def _lm_items(token_ids: list[int], width: int) -> list[Item]:
    blocks = [token_ids[i : i + width] for i in range(0, len(token_ids), width)]
    blocks = [b for b in blocks if len(b) >= 2]
    return [{"input_ids": b, "labels": list(b)} for b in blocks]


class PretrainTask(CausalTask):
    """The corpus is tokenized, joined with end-of-text tokens and cut into blocks of max_seq_len."""

    @classmethod
    def create(
        cls, spec: dict[str, Any], sink: EventSink, rows: tuple[list[Any], list[Any]], resume: str | None, device: Any
    ) -> PretrainTask:
        from transformers import LlamaConfig, LlamaForCausalLM

        model_spec = spec["model"]
        cfg = model_spec["init_config"]
        train_rows, eval_rows = rows
        if model_spec["tokenizer_path"]:
            tokenizer = load_tokenizer(model_spec["tokenizer_path"])
        elif resume and os.path.isdir(os.path.join(resume, "tokenizer")):
            tokenizer = load_tokenizer(os.path.join(resume, "tokenizer"))
        elif model_spec["base_model_path"]:
            tokenizer = load_tokenizer(model_spec["base_model_path"])
        else:
            tokenizer = build_bpe_tokenizer(
                [r["text"] for r in train_rows + eval_rows], cfg["vocab_size"], cfg["max_position_embeddings"]
            )
        if model_spec["base_model_path"]:
            model = load_base_model(model_spec["base_model_path"])
        else:
            if len(tokenizer) > cfg["vocab_size"]:
                raise PermanentError(
                    f"model.init_config.vocab_size: {cfg['vocab_size']} is smaller than the tokenizer's "
                    f"{len(tokenizer)} tokens"
                )
            config = LlamaConfig(
                **cfg,
                pad_token_id=tokenizer.pad_token_id,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                tie_word_embeddings=False,
            )
            model = LlamaForCausalLM(config)
        task = cls(spec, sink, model, tokenizer, device)
        width = min(spec["hyperparams"]["max_seq_len"], model.config.max_position_embeddings)
        task.train = _lm_items(task._encode(train_rows), width)
        task.eval = _lm_items(task._encode(eval_rows), width)
        if not task.train:
            raise PermanentError(f"dataset {spec['dataset']['path']}: the corpus is too short for one training block")
        return task

    def _encode(self, rows: list[Any]) -> list[int]:
        eos = self.tokenizer.eos_token_id
        ids: list[int] = []
        for row in rows:
            ids.extend(self.tokenizer(row["text"], add_special_tokens=False)["input_ids"])
            ids.append(eos)
        return ids


def sft_prompt_and_completion(row: dict[str, Any], tokenizer: Any) -> tuple[str, str]:
    """The text the model sees and the text it learns to produce, for each sft_pair row format."""
    if "instruction" in row:
        prompt = f"### Instruction:\n{row['instruction']}\n\n"
        if row.get("input"):
            prompt += f"### Input:\n{row['input']}\n\n"
        return prompt + "### Response:\n", row["output"]
    if "prompt" in row:
        return row["prompt"], row["completion"]
    messages = row["messages"]
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    prompt = tokenizer.apply_chat_template(messages[:last], tokenize=False, add_generation_prompt=True)
    return prompt, messages[last]["content"]


class SftTask(CausalTask):
    """Loss only on the response tokens; the prompt is context."""

    @classmethod
    def create(
        cls, spec: dict[str, Any], sink: EventSink, rows: tuple[list[Any], list[Any]], resume: str | None, device: Any
    ) -> SftTask:
        base = spec["model"]["base_model_path"]
        tokenizer = load_tokenizer(spec["model"]["tokenizer_path"] or base)
        if not getattr(tokenizer, "chat_template", None):
            tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
        task = cls(spec, sink, load_base_model(base), tokenizer, device)
        width = min(spec["hyperparams"]["max_seq_len"], task.model.config.max_position_embeddings)
        task.train = [task._encode(r, width) for r in rows[0]]
        task.eval = [task._encode(r, width) for r in rows[1]]
        return task

    def _encode(self, row: dict[str, Any], width: int) -> Item:
        prompt, completion = sft_prompt_and_completion(row, self.tokenizer)
        tok = self.tokenizer
        head = [tok.bos_token_id] if tok.bos_token_id is not None else []
        p = head + tok(prompt, add_special_tokens=False)["input_ids"]
        c = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        # Keep at least half the window (or the whole completion) for the response, cutting the prompt's start.
        c = c[: max(1, width - min(len(p), width // 2))]
        p = p[max(0, len(p) - (width - len(c))) :]
        return {"input_ids": p + c, "labels": [-100] * len(p) + c}


class DpoTask(CausalTask):
    """Direct preference optimisation with trl: its tokenisation, reference model and loss; our loop."""

    @classmethod
    def create(
        cls, spec: dict[str, Any], sink: EventSink, rows: tuple[list[Any], list[Any]], resume: str | None, device: Any
    ) -> DpoTask:
        from datasets import Dataset
        from trl import DPOConfig, DPOTrainer

        base = spec["model"]["base_model_path"]
        tokenizer = load_tokenizer(spec["model"]["tokenizer_path"] or base)
        task = cls(spec, sink, load_base_model(base), tokenizer, device)
        hp = spec["hyperparams"]
        beta = spec["dpo"]["beta"] if spec["dpo"] else 0.1
        if spec["dpo"] is None:
            sink.log("info", "dpo is null: using beta 0.1")
        width = min(hp["max_seq_len"], task.model.config.max_position_embeddings)
        task._scratch = tempfile.mkdtemp(prefix="llmops-dpo-")
        args = DPOConfig(
            output_dir=task._scratch,
            per_device_train_batch_size=hp["batch_size"],
            per_device_eval_batch_size=hp["batch_size"],
            max_length=width,
            max_prompt_length=max(1, width // 2),
            beta=beta,
            seed=hp["seed"],
            report_to=[],
            save_strategy="no",
            logging_strategy="no",
            disable_tqdm=True,
            use_cpu=device.type == "cpu",
        )
        train_rows, eval_rows = rows
        task.trainer = DPOTrainer(
            model=task.model,
            args=args,
            train_dataset=Dataset.from_list(train_rows),
            eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
            processing_class=tokenizer,
        )
        task.train = list(task.trainer.train_dataset)
        task.eval = list(task.trainer.eval_dataset) if eval_rows else []
        return task

    def collate(self, items: list[Item]) -> dict[str, Any]:
        batch: dict[str, Any] = self.trainer.data_collator(items)
        return {k: v.to(self.device) if hasattr(v, "to") else v for k, v in batch.items()}

    def loss(self, batch: dict[str, Any], train: bool) -> tuple[Any, dict[str, float], int]:
        loss, metrics = self.trainer.get_batch_loss_metrics(self.model, batch, "train" if train else "eval")
        keep = ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected")
        values = {k: float(v) for k, v in metrics.items() if k in keep}
        tokens = sum(int(batch[f"{p}_attention_mask"].sum().item()) for p in ("prompt", "chosen", "rejected"))
        return loss, values, tokens

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)


TASKS = {"pretrain": PretrainTask, "sft": SftTask, "dpo": DpoTask}
