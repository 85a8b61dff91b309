from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Run, run_spec
from llmops_runtime.testdata import make_spec


def test_pretrain_from_scratch_lowers_the_loss_and_reports_everything(base_model: tuple[str, Run]) -> None:
    out, run = base_model
    assert run.code == 0
    assert run.events[0]["type"] in ("log", "started")
    started = run.of("started")[0]
    assert started["mode"] == "pretrain" and started["resumed_from_step"] is None
    losses = run.losses()
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < losses[0] - 1.0, losses
    assert all("learning_rate" in e["values"] for e in run.of("metric") if "loss" in e["values"])
    assert any("eval_loss" in e["values"] for e in run.of("metric"))
    assert [e["step"] for e in run.of("checkpoint")] == [10, 20, 30]
    result = run.result
    assert result["status"] == "succeeded" and result["step"] == 40
    assert {"loss", "steps", "train_seconds", "tokens_per_second", "eval_loss"} <= set(result["metrics"])
    assert result["metrics"]["tokens_per_second"] > 0
    kinds = {(e["kind"], e["format"]) for e in run.of("artifact")}
    assert kinds == {("model", "safetensors"), ("tokenizer", None)}
    assert os.path.isfile(os.path.join(out, "model.safetensors"))
    assert os.path.isfile(os.path.join(out, "tokenizer.json"))
    # keep_last = 2: only the two newest checkpoints remain.
    ckpts = sorted(os.listdir(os.path.join(os.path.dirname(out), "checkpoints")))
    assert ckpts == ["step-20", "step-30"]


@pytest.mark.parametrize("fmt,weights", [("safetensors", "model.safetensors"), ("hf", "pytorch_model.bin")])
def test_both_save_formats_load_back_with_transformers(
    fmt: str, weights: str, tmp_path: Path, corpus: str, base_model: tuple[str, Run]
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops_runtime.compat import patch_transformers_for_torch1

    patch_transformers_for_torch1()
    if fmt == "safetensors":
        out = base_model[0]  # the shared base model was saved as safetensors
    else:
        spec = make_spec("pretrain", str(tmp_path), corpus, hyperparams={"max_steps": 3})
        spec["output"]["save_format"] = "hf"
        run = run_spec(spec, tmp_path)
        assert run.code == 0, run.stderr[-2000:]
        out = spec["output"]["dir"]
    assert os.path.isfile(os.path.join(out, weights))
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    ids = tok("the red fox", return_tensors="pt")["input_ids"]
    generated = model.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert generated.shape[1] > ids.shape[1]


def test_same_seed_gives_the_same_run(tmp_path: Path, corpus: str) -> None:
    runs = []
    for name in ("a", "b"):
        spec = make_spec("pretrain", str(tmp_path / name), corpus, hyperparams={"max_steps": 4})
        runs.append(run_spec(spec, tmp_path / name))
    assert runs[0].code == runs[1].code == 0
    assert runs[0].losses() == runs[1].losses()
