"""The load-test mode: same contract as the real modes, no ML library, predictable timing."""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import run_and_signal, run_spec
from llmops_runtime.testdata import make_spec


def test_synthetic_emits_every_step_in_about_steps_times_step_ms_without_torch(tmp_path: Path, corpus: str) -> None:
    # A `torch` that cannot be imported proves the mode never loads it.
    fake = tmp_path / "no-torch"
    fake.mkdir()
    (fake / "torch.py").write_text("raise ImportError('synthetic mode must not import torch')\n")
    spec = make_spec("synthetic", str(tmp_path), corpus, synthetic={"steps": 25, "step_ms": 40})
    began = time.monotonic()
    run = run_spec(spec, tmp_path, env={"PYTHONPATH": f"{fake}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    elapsed = time.monotonic() - began
    assert run.code == 0, run.stderr
    assert 25 * 0.040 <= elapsed < 25 * 0.040 + 8
    assert [e["step"] for e in run.of("progress")] == list(range(1, 26))
    assert [e["step"] for e in run.of("checkpoint")] == [10, 20]
    losses = run.losses()
    assert losses[-1] < losses[0]
    assert run.result["status"] == "succeeded" and run.result["step"] == 25
    assert sorted(os.listdir(spec["checkpoint"]["dir"])) == ["step-10", "step-20"]
    assert run.of("artifact")[0]["kind"] == "model"


def test_synthetic_sigterm_checkpoints_and_resume_continues(tmp_path: Path, corpus: str) -> None:
    spec = make_spec("synthetic", str(tmp_path), corpus, synthetic={"steps": 200, "step_ms": 20})
    first = run_and_signal(spec, tmp_path, after_step=5)
    assert first.code == 10
    stopped = first.result["step"]
    assert first.result["status"] == "checkpointed" and first.of("checkpoint")[-1]["step"] == stopped
    resumed = run_spec({**spec, "checkpoint": {**spec["checkpoint"], "resume_from": "latest"}}, tmp_path)
    assert resumed.code == 0
    assert resumed.of("started")[0]["resumed_from_step"] == stopped
    assert resumed.of("progress")[0]["step"] == stopped + 1 and resumed.result["step"] == 200
    straight = run_spec(
        make_spec("synthetic", str(tmp_path / "b"), corpus, synthetic={"steps": 200, "step_ms": 0}), tmp_path
    )
    assert resumed.losses() == straight.losses()[stopped:]


def test_a_second_signal_exits_promptly(tmp_path: Path, corpus: str) -> None:
    import json
    import signal
    import subprocess
    import sys

    from conftest import runtime_env, write_spec

    spec = make_spec("synthetic", str(tmp_path), corpus, synthetic={"steps": 3, "step_ms": 20_000})
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmops_runtime"],
        env=runtime_env(write_spec(spec, tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline())["type"] == "started"
        time.sleep(0.5)  # inside the first 20 s step
        proc.send_signal(signal.SIGTERM)  # alone, it would wait for the step to finish
        time.sleep(0.2)
        began = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 20
        assert time.monotonic() - began < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
