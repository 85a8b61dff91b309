"""SFT (LoRA, qlora fallback) and DPO, both starting from the tiny pretrained base model."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import Run, run_spec
from llmops_runtime.testdata import make_spec, write_rlhf_pairs, write_sft_pairs


def test_sft_lora_lowers_the_loss_and_saves_a_loadable_merged_model(
    tmp_path: Path, base_model: tuple[str, Run]
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data = write_sft_pairs(str(tmp_path / "sft.jsonl"), rows=96)
    spec = make_spec(
        "sft",
        str(tmp_path),
        data,
        model={"base_model_path": base_model[0]},
        method="lora",
        lora={"r": 8, "alpha": 16, "dropout": 0.0},
        hyperparams={"lr": 1e-2, "num_epochs": 3, "max_steps": 24},
    )
    run = run_spec(spec, tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    losses = run.losses()
    assert len(losses) == 24
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4, losses
    assert run.result["status"] == "succeeded"
    out = spec["output"]["dir"]
    assert os.path.isfile(os.path.join(out, "adapter", "adapter_config.json"))
    merged = AutoModelForCausalLM.from_pretrained(out)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.chat_template  # saved so serving formats chats the way the model was trained


def test_qlora_on_cpu_falls_back_to_lora_with_a_warning(tmp_path: Path, base_model: tuple[str, Run]) -> None:
    data = write_sft_pairs(str(tmp_path / "sft.jsonl"), rows=16)
    spec = make_spec(
        "sft",
        str(tmp_path),
        data,
        model={"base_model_path": base_model[0]},
        method="qlora",
        lora={"r": 4, "alpha": 8, "dropout": 0.1},
        hyperparams={"max_steps": 2},
    )
    run = run_spec(spec, tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert any("qlora" in m for m in run.logs("warning"))
    assert os.path.isdir(os.path.join(spec["output"]["dir"], "adapter"))


def test_dpo_trains_a_few_steps_with_preference_metrics(tmp_path: Path, base_model: tuple[str, Run]) -> None:
    data = write_rlhf_pairs(str(tmp_path / "dpo.jsonl"), rows=24)
    spec = make_spec(
        "dpo",
        str(tmp_path),
        data,
        model={"base_model_path": base_model[0]},
        dpo={"beta": 0.1},
        hyperparams={"batch_size": 4, "max_steps": 4, "lr": 1e-3},
    )
    run = run_spec(spec, tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert len(run.of("progress")) == 4
    assert all("rewards/margins" in e["values"] for e in run.of("metric") if "loss" in e["values"])
    assert run.result["status"] == "succeeded"
    assert os.path.isfile(os.path.join(spec["output"]["dir"], "model.safetensors"))
