"""Mode `synthetic`: a load-test double of a training run that imports no ML library.

It follows the same contract as the real modes (events, checkpoints every N steps, SIGTERM → checkpoint and exit
10, resume) so the supervisor can be exercised with hundreds of runs on one machine.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from typing import Any

from .checkpoints import read_state, resolve_resume
from .errors import EXIT_CHECKPOINTED, EXIT_SUCCEEDED
from .events import EventSink
from .loop import CheckpointPolicy, StopFlag


def synthetic_loss(seed: int, step: int, total: int) -> float:
    """A decreasing, slightly noisy curve that depends only on (seed, step), so a resumed run matches."""
    noise = random.Random(seed * 1_000_003 + step).uniform(-0.02, 0.02)
    return 2.5 * math.exp(-3.0 * step / max(1, total)) + 0.1 + noise


def run_synthetic(spec: dict[str, Any], sink: EventSink, stop: StopFlag) -> int:
    steps = spec["synthetic"]["steps"]
    pause = spec["synthetic"]["step_ms"] / 1000.0
    seed = spec["hyperparams"]["seed"]
    lr = spec["hyperparams"]["lr"]
    epochs = spec["hyperparams"]["num_epochs"]
    resume = resolve_resume(spec["checkpoint"], sink)
    state: dict[str, Any] = read_state(resume) if resume else {"step": 0, "train_seconds": 0.0}
    step = min(int(state["step"]), steps)
    elapsed_before = float(state.get("train_seconds", 0.0))
    began = time.monotonic()

    def current_state() -> dict[str, Any]:
        return {"mode": "synthetic", "job_id": spec["job_id"], "train_seconds": seconds()}

    def seconds() -> float:
        return elapsed_before + time.monotonic() - began

    def write_files(directory: str) -> None:
        with open(os.path.join(directory, "synthetic.json"), "w", encoding="utf-8") as f:
            json.dump({"seed": seed, "steps": steps}, f)

    policy = CheckpointPolicy(spec, sink, stop, write_files, current_state)
    sink.started("synthetic", step if resume else None)
    loss = synthetic_loss(seed, step, steps)
    if policy.stop_if_requested(step, {"loss": loss}):
        return EXIT_CHECKPOINTED
    while step < steps:
        if pause:
            time.sleep(pause)
        step += 1
        loss = synthetic_loss(seed, step, steps)
        sink.progress(step, steps, epochs * step / steps)
        sink.metric(step, {"loss": loss, "learning_rate": lr})
        if policy.after_step(step, steps, {"loss": loss}):
            return EXIT_CHECKPOINTED
    os.makedirs(spec["output"]["dir"], exist_ok=True)
    model_path = os.path.join(spec["output"]["dir"], "synthetic-model.json")
    with open(model_path, "w", encoding="utf-8") as f:
        json.dump({"artifact_name": spec["output"]["artifact_name"], "steps": steps, "final_loss": loss}, f)
    sink.artifact("model", model_path, None)
    total = seconds()
    sink.result(
        "succeeded",
        step,
        {"loss": loss, "steps": float(step), "train_seconds": total, "tokens_per_second": 0.0},
        None,
    )
    return EXIT_SUCCEEDED
