"""The optimisation loop shared by the real modes (pretrain, sft, dpo): seeding, data order, optimizer and
schedule, checkpoints with optimizer/scheduler/RNG state and data position, resume, final save."""

from __future__ import annotations

import math
import os
import random
import time
from typing import Any

from .checkpoints import read_state, resolve_resume
from .data import read_rows, split_eval
from .errors import EXIT_CHECKPOINTED, EXIT_SUCCEEDED
from .events import EventSink
from .loop import CheckpointPolicy, StopFlag


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def lr_factor(step: int, total: int) -> float:
    """Linear warm-up over the first 10% of steps (at most 100), then linear decay to 10% of the peak."""
    warmup = min(100, total // 10)
    if step < warmup:
        return (step + 1) / (warmup + 1)
    return max(0.1, 1.0 - 0.9 * (step - warmup) / max(1, total - warmup))


def _device(spec: dict[str, Any], sink: EventSink) -> Any:
    import torch

    if spec["use_gpu"] and torch.cuda.is_available():
        return torch.device("cuda")
    if spec["use_gpu"]:
        sink.log("warning", "use_gpu is true but CUDA is not available on this node: training on CPU")
    elif spec["hyperparams"]["precision"]:
        sink.log("debug", f"precision {spec['hyperparams']['precision']} applies on GPU; CPU trains in fp32")
    return torch.device("cpu")


def run_training(spec: dict[str, Any], sink: EventSink, stop: StopFlag) -> int:
    hp = spec["hyperparams"]
    # Data is read and checked before torch is imported, so bad rows fail in well under a second.
    rows = split_eval(
        read_rows(spec["dataset"]["path"], spec["dataset"]["type"], spec["dataset"]["sha256"]), hp["seed"]
    )
    resume = resolve_resume(spec["checkpoint"], sink)

    from .tasks import TASKS

    if spec["mode"] == "pretrain" and spec["method"] != "full":
        sink.log("warning", f"method {spec['method']} does not apply to pretraining: training all weights")
    seed_everything(hp["seed"])
    device = _device(spec, sink)
    task = TASKS[spec["mode"]].create(spec, sink, rows, resume, device)
    try:
        return _train(spec, sink, stop, task, resume, device)
    finally:
        close = getattr(task, "close", None)
        if close is not None:
            close()


def _train(spec: dict[str, Any], sink: EventSink, stop: StopFlag, task: Any, resume: str | None, device: Any) -> int:
    import torch

    hp = spec["hyperparams"]
    bs = hp["batch_size"]
    per_epoch = math.ceil(len(task.train) / bs)
    total = per_epoch * hp["num_epochs"]
    if hp["max_steps"] is not None:
        total = min(total, hp["max_steps"])
    params = [p for p in task.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=hp["lr"], weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total))
    autocast_dtype = None
    if device.type == "cuda":
        autocast_dtype = torch.bfloat16 if hp["precision"] == "bf16" else torch.float16
    scaler = torch.cuda.amp.GradScaler(enabled=autocast_dtype == torch.float16)

    progress = {"step": 0, "epoch": 0, "batch": 0, "tokens": 0, "train_seconds": 0.0, "loss": float("nan")}
    if resume:
        state = read_state(resume)
        task.load_weights(resume)
        optimizer.load_state_dict(torch.load(os.path.join(resume, "optimizer.pt"), map_location=device))
        scheduler.load_state_dict(torch.load(os.path.join(resume, "scheduler.pt")))
        _set_rng_state(torch.load(os.path.join(resume, "rng.pt"), weights_only=False))
        progress.update({k: state[k] for k in progress if k in state})
    began = time.monotonic()
    seconds_before = float(progress["train_seconds"])

    def seconds() -> float:
        return seconds_before + time.monotonic() - began

    def write_files(directory: str) -> None:
        task.save_weights(directory)
        torch.save(optimizer.state_dict(), os.path.join(directory, "optimizer.pt"))
        torch.save(scheduler.state_dict(), os.path.join(directory, "scheduler.pt"))
        torch.save(_rng_state(), os.path.join(directory, "rng.pt"))

    def state() -> dict[str, Any]:
        return {
            **progress,
            "train_seconds": seconds(),
            "total_steps": total,
            "mode": spec["mode"],
            "job_id": spec["job_id"],
        }

    def evaluate(step: int) -> float | None:
        if not task.eval:
            return None
        task.model.eval()
        losses = []
        with torch.no_grad():
            for i in range(0, len(task.eval), bs):
                loss, _, _ = task.loss(task.collate(task.eval[i : i + bs]), False)
                losses.append(float(loss))
        task.model.train()
        value = sum(losses) / len(losses)
        sink.metric(step, {"eval_loss": value})
        return value

    policy = CheckpointPolicy(spec, sink, stop, write_files, state, on_checkpoint=evaluate)
    sink.started(spec["mode"], int(progress["step"]) if resume else None)
    task.model.train()
    if policy.stop_if_requested(int(progress["step"]), {}):
        return EXIT_CHECKPOINTED
    step = int(progress["step"])
    while step < total:
        epoch = int(progress["epoch"])
        order = torch.randperm(len(task.train), generator=torch.Generator().manual_seed(hp["seed"] + epoch)).tolist()
        for b in range(int(progress["batch"]), per_epoch):
            batch = task.collate([task.train[i] for i in order[b * bs : (b + 1) * bs]])
            lr = scheduler.get_last_lr()[0]
            with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                loss, extra, tokens = task.loss(batch, True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            done_epoch = b + 1 == per_epoch
            progress.update(
                step=step,
                epoch=epoch + 1 if done_epoch else epoch,
                batch=0 if done_epoch else b + 1,
                tokens=int(progress["tokens"]) + tokens,
                loss=float(loss),
            )
            sink.progress(step, total, step / per_epoch)
            sink.metric(step, {"loss": float(loss), "learning_rate": lr, "grad_norm": float(grad_norm), **extra})
            if policy.after_step(step, total, {"loss": float(loss)}):
                return EXIT_CHECKPOINTED
            if step >= total:
                break
    train_seconds = seconds()
    eval_loss = evaluate(step)
    out = spec["output"]
    task.save_final(out["dir"], out["save_format"])
    sink.artifact("model", out["dir"], out["save_format"])
    sink.artifact("tokenizer", out["dir"], None)
    metrics = {
        "loss": float(progress["loss"]),
        "steps": float(step),
        "train_seconds": train_seconds,
        "tokens_per_second": float(progress["tokens"]) / max(train_seconds, 1e-9),
    }
    if eval_loss is not None:
        metrics["eval_loss"] = eval_loss
    sink.result("succeeded", step, metrics, None)
    return EXIT_SUCCEEDED
