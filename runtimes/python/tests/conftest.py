"""Runs the runtime as the platform does (a child process, spec in LLMOPS_SPEC, events on stdout) and checks
every event it emits against the contract's JSON Schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from llmops_runtime.testdata import make_spec, write_pretrain_corpus

REPO = Path(__file__).resolve().parents[3]
EVENT_SCHEMA = json.loads((REPO / "docs/api/runtime-event.schema.json").read_text())
SPEC_SCHEMA = json.loads((REPO / "docs/api/runtime-spec.schema.json").read_text())
EVENT_VALIDATOR = jsonschema.Draft202012Validator(EVENT_SCHEMA)
SPEC_VALIDATOR = jsonschema.Draft202012Validator(SPEC_SCHEMA)


@dataclass
class Run:
    code: int
    events: list[dict[str, Any]]
    stderr: str
    spec: dict[str, Any] = field(default_factory=dict)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def result(self) -> dict[str, Any]:
        results = self.of("result")
        assert len(results) == 1, f"expected one result event, got {results}\nstderr:\n{self.stderr[-3000:]}"
        return results[0]

    def losses(self) -> list[float]:
        return [e["values"]["loss"] for e in self.of("metric") if "loss" in e["values"]]

    def logs(self, level: str) -> list[str]:
        return [e["message"] for e in self.of("log") if e["level"] == level]


def parse_events(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line must be one event that validates against docs/api/runtime-event.schema.json."""
    events = []
    for line in stdout.splitlines():
        event = json.loads(line)
        errors = [e.message for e in EVENT_VALIDATOR.iter_errors(event)]
        assert not errors, f"event does not match the contract: {line}\n{errors}"
        events.append(event)
    return events


def write_spec(spec: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    return path


def runtime_env(spec_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "LLMOPS_SPEC": str(spec_path), **(extra or {})}


def run_spec(spec: dict[str, Any], directory: Path, timeout: float = 90, env: dict[str, str] | None = None) -> Run:
    spec_path = write_spec(spec, directory)
    proc = subprocess.run(
        [sys.executable, "-m", "llmops_runtime"],
        env=runtime_env(spec_path, env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(proc.returncode, parse_events(proc.stdout), proc.stderr, spec)


def run_and_signal(spec: dict[str, Any], directory: Path, after_step: int, timeout: float = 90) -> Run:
    """Starts a run, sends SIGTERM once `after_step` progress has been reported, and collects the rest."""
    spec_path = write_spec(spec, directory)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmops_runtime"],
        env=runtime_env(spec_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            event = json.loads(line)
            if event["type"] == "progress" and event["step"] >= after_step:
                proc.send_signal(signal.SIGTERM)
                break
            assert time.monotonic() < deadline, "run did not reach the step in time"
        rest, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Run(proc.returncode, parse_events("".join(lines) + rest), err, spec)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_pretrain_corpus(str(tmp_path_factory.mktemp("data") / "corpus.jsonl"), rows=200)


@pytest.fixture(scope="session")
def base_model(tmp_path_factory: pytest.TempPathFactory, corpus: str) -> tuple[str, Run]:
    """One tiny pretrained llama (with its built tokenizer) shared by the SFT and DPO tests."""
    work = tmp_path_factory.mktemp("base")
    spec = make_spec("pretrain", str(work), corpus, hyperparams={"max_steps": 40, "lr": 5e-3, "num_epochs": 3})
    run = run_spec(spec, work)
    assert run.code == 0, run.stderr[-3000:]
    return spec["output"]["dir"], run
