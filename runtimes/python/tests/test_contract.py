"""Bad input ends in a `log` error, a failed `result` and exit 30 with the problem named — before torch loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import SPEC_VALIDATOR, parse_events, run_spec
from llmops_runtime.data import sha256_of
from llmops_runtime.testdata import make_spec, write_demo


def assert_permanent(run: Any, *fragments: str) -> None:
    assert run.code == 30, run.stderr[-2000:]
    assert [e["type"] for e in run.events][-2:] == ["log", "result"]
    assert run.result["status"] == "failed"
    for fragment in fragments:
        assert fragment in run.result["message"], run.result["message"]
    assert run.of("log")[-1]["level"] == "error"


def test_generated_specs_match_the_platform_schema(tmp_path: Path) -> None:
    for path in write_demo(str(tmp_path)).values():
        spec = json.loads(Path(path).read_text())
        assert not [e.message for e in SPEC_VALIDATOR.iter_errors(spec)]


@pytest.mark.parametrize(
    "mutate,fragments",
    [
        (lambda s: s["hyperparams"].pop("lr"), ["hyperparams.lr", "missing"]),
        (lambda s: s["hyperparams"].update(lr=-1), ["hyperparams.lr", "greater than 0"]),
        (lambda s: s["hyperparams"].update(batch_size="8"), ["hyperparams.batch_size", "expected a number"]),
        (lambda s: s["checkpoint"].update(every_n_steps=1.5), ["checkpoint.every_n_steps", "integer"]),
        (lambda s: s["output"].update(save_format="gguf"), ["output.save_format", "hf, safetensors"]),
        (lambda s: s.update(colour="red"), ["colour", "unknown field"]),
        (lambda s: s.update(mode="ppo"), ["mode 'ppo' is not implemented"]),
        (lambda s: s["dataset"].update(type="sft_pair"), ["dataset.type", "pretrain_corpus"]),
        (lambda s: s["model"].update(init_config=None), ["model.init_config", "required"]),
        (lambda s: s["model"]["init_config"].update(vocab_size=200), ["model.init_config.vocab_size", "259"]),
        (lambda s: s["checkpoint"].update(resume_from="/nonexistent/step-3"), ["checkpoint.resume_from"]),
        (lambda s: s["dataset"].update(path="/nonexistent.jsonl"), ["does not exist", "dataset.path"]),
        (lambda s: s["dataset"].update(sha256="0" * 64), ["does not match dataset.sha256"]),
    ],
)
def test_bad_spec_fails_permanently_naming_the_field(
    tmp_path: Path, corpus: str, mutate: Any, fragments: list[str]
) -> None:
    spec = make_spec("pretrain", str(tmp_path), corpus)
    mutate(spec)
    assert_permanent(run_spec(spec, tmp_path), *fragments)


def test_sft_without_a_base_model_is_rejected(tmp_path: Path, corpus: str) -> None:
    spec = make_spec("sft", str(tmp_path), corpus)
    assert_permanent(run_spec(spec, tmp_path), "model.base_model_path")


@pytest.mark.parametrize(
    "line,fragments",
    [
        ("not json at all", ["line 3", "not valid JSON"]),
        ('{"txt": "typo"}', ["line 3", "unknown field(s) txt"]),
        ('{"text": "   "}', ["line 3", "text: must not be empty"]),
        ("[1, 2]", ["line 3", "row must be a JSON object"]),
    ],
)
def test_garbage_rows_fail_permanently_naming_the_row(tmp_path: Path, line: str, fragments: list[str]) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "fine"}\n{"text": "also fine"}\n' + line + "\n")
    run = run_spec(make_spec("pretrain", str(tmp_path), str(data)), tmp_path)
    assert_permanent(run, *fragments)
    assert not run.of("started")


def test_bad_sft_row_names_the_closest_format(tmp_path: Path) -> None:
    data = tmp_path / "sft.jsonl"
    data.write_text(json.dumps({"instruction": "x", "output": ""}) + "\n")
    spec = make_spec("sft", str(tmp_path), str(data), model={"base_model_path": str(tmp_path)})
    assert_permanent(run_spec(spec, tmp_path), "line 1", "closest 'instruction'", "output: must not be empty")


def test_matching_sha256_is_accepted(tmp_path: Path, corpus: str) -> None:
    spec = make_spec("synthetic", str(tmp_path), corpus, synthetic={"steps": 1, "step_ms": 0})
    spec["dataset"]["sha256"] = sha256_of(corpus)
    assert run_spec(spec, tmp_path).code == 0


@pytest.mark.parametrize("content", [None, "{ not json"])
def test_missing_or_unreadable_spec_file(tmp_path: Path, content: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LLMOPS_SPEC"}
    if content is not None:
        (tmp_path / "spec.json").write_text(content)
        env["LLMOPS_SPEC"] = str(tmp_path / "spec.json")
    proc = subprocess.run([sys.executable, "-m", "llmops_runtime"], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 30
    message = parse_events(proc.stdout)[-1]["message"]
    assert ("LLMOPS_SPEC" in message) if content is None else ("not valid JSON" in message)


def test_resume_latest_without_checkpoints_starts_fresh_with_a_warning(tmp_path: Path, corpus: str) -> None:
    spec = make_spec("synthetic", str(tmp_path), corpus, checkpoint={"resume_from": "latest"})
    run = run_spec(spec, tmp_path)
    assert run.code == 0
    assert any("no checkpoint" in m for m in run.logs("warning"))
    assert run.of("started")[0]["resumed_from_step"] is None
