"""SIGTERM → checkpoint, `result: checkpointed`, exit 10; resume from it reaches the same end."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import run_and_signal, run_spec
from llmops_runtime.testdata import make_spec


def test_sigterm_checkpoints_and_resume_finishes_like_an_uninterrupted_run(tmp_path: Path, corpus: str) -> None:
    hp = {"max_steps": 30, "batch_size": 2, "num_epochs": 2}
    ckpt = {"every_n_steps": 12, "keep_last": 3}
    spec = make_spec("pretrain", str(tmp_path / "paused"), corpus, hyperparams=hp, checkpoint=ckpt)

    first = run_and_signal(spec, tmp_path / "paused", after_step=3)
    assert first.code == 10, first.stderr[-3000:]
    stopped_at = first.result["step"]
    assert first.result["status"] == "checkpointed" and 3 <= stopped_at < 30
    last_ckpt = first.of("checkpoint")[-1]
    assert last_ckpt["step"] == stopped_at and os.path.isdir(last_ckpt["path"])
    assert not first.of("artifact")

    resumed_spec = {**spec, "attempt": 2, "checkpoint": {**spec["checkpoint"], "resume_from": "latest"}}
    second = run_spec(resumed_spec, tmp_path / "paused")
    assert second.code == 0, second.stderr[-3000:]
    assert second.of("started")[0]["resumed_from_step"] == stopped_at
    assert second.of("progress")[0]["step"] == stopped_at + 1
    assert second.result["step"] == 30

    straight = run_spec(make_spec("pretrain", str(tmp_path / "straight"), corpus, hyperparams=hp), tmp_path)
    assert straight.code == 0
    # Same data order, optimizer, schedule and RNG state: the resumed run ends exactly where the other one does.
    assert second.losses()[-1] == straight.losses()[-1]
    assert straight.losses()[stopped_at:] == second.losses()


def test_explicit_resume_path_resumes_from_that_checkpoint(tmp_path: Path, corpus: str) -> None:
    spec = make_spec("pretrain", str(tmp_path), corpus, hyperparams={"max_steps": 6}, checkpoint={"every_n_steps": 2})
    assert run_spec(spec, tmp_path).code == 0
    step4 = os.path.join(spec["checkpoint"]["dir"], "step-4")
    again = run_spec({**spec, "checkpoint": {**spec["checkpoint"], "resume_from": step4}}, tmp_path)
    assert again.code == 0, again.stderr[-2000:]
    assert again.of("started")[0]["resumed_from_step"] == 4
    assert [e["step"] for e in again.of("progress")] == [5, 6]
