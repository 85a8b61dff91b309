"""Reading JSONL datasets and checking their rows against the formats of packages/spec/src/datasets.ts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from .errors import PermanentError

Issues = list[str]
RowFormat = Callable[[dict[str, Any]], Issues]
CHAT_ROLES = ("system", "user", "assistant", "tool")


def _fields(row: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Issues:
    issues: Issues = []
    unknown = [k for k in row if k not in required and k not in optional]
    if unknown:
        issues.append(f"unknown field(s) {', '.join(unknown)}")
    for name in required:
        value = row.get(name)
        if value is None:
            issues.append(f"{name}: required")
        elif not isinstance(value, str):
            issues.append(f"{name}: expected a string")
        elif not value.strip():
            issues.append(f"{name}: must not be empty")
    for name in optional:
        if name in row and not isinstance(row[name], str):
            issues.append(f"{name}: expected a string")
    return issues


def _chat(row: dict[str, Any]) -> Issues:
    issues: Issues = (
        [f"unknown field(s) {', '.join(k for k in row if k != 'messages')}"] if set(row) - {"messages"} else []
    )
    messages = row.get("messages")
    if not isinstance(messages, list):
        return [*issues, "messages: required array"]
    if len(messages) < 2:
        issues.append("messages: needs at least 2 messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            issues.append(f"messages.{i}: expected {{role, content}}")
        elif m["role"] not in CHAT_ROLES or not isinstance(m["content"], str):
            issues.append(f"messages.{i}: role must be one of {', '.join(CHAT_ROLES)} and content a string")
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        issues.append("messages: needs at least one assistant message")
    return issues


def _preference(row: dict[str, Any]) -> Issues:
    issues = _fields(row, ("prompt", "chosen", "rejected"))
    if not issues and row["chosen"] == row["rejected"]:
        issues.append("chosen and rejected must differ")
    return issues


ROW_FORMATS: dict[str, dict[str, RowFormat]] = {
    "pretrain_corpus": {"text": lambda r: _fields(r, ("text",))},
    "sft_pair": {
        "instruction": lambda r: _fields(r, ("instruction", "output"), ("input",)),
        "completion": lambda r: _fields(r, ("prompt", "completion")),
        "chat": _chat,
    },
    "rag_qa": {"rag": lambda r: _fields(r, ("question", "context", "answer"))},
    "rlhf_pair": {"preference": _preference},
    "embedding_pair": {
        "pair": lambda r: _fields(r, ("anchor", "positive"), ("negative",)),
        "query": lambda r: _fields(r, ("query", "positive"), ("negative",)),
    },
}


def check_row(dataset_type: str, row: Any) -> tuple[str | None, str]:
    """Returns (format, "") when the row matches one of its type's formats, else (None, why not)."""
    if not isinstance(row, dict):
        return None, "row must be a JSON object"
    formats = ROW_FORMATS[dataset_type]
    best: tuple[str, Issues] | None = None
    for name, check in formats.items():
        issues = check(row)
        if not issues:
            return name, ""
        if best is None or len(issues) < len(best[1]):
            best = (name, issues)
    assert best is not None
    return None, (
        f"not a valid {dataset_type} row (formats: {' | '.join(formats)}); closest '{best[0]}': {'; '.join(best[1])}"
    )


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_rows(path: str, dataset_type: str, sha256: str | None = None) -> list[dict[str, Any]]:
    """All rows of a JSONL file, each checked; the first bad row stops the job with its line number."""
    try:
        if sha256 is not None and sha256_of(path) != sha256.lower():
            raise PermanentError(f"dataset {path}: content does not match dataset.sha256 {sha256}")
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except FileNotFoundError:
        raise PermanentError(f"dataset file {path} does not exist (dataset.path)") from None
    except UnicodeDecodeError as e:
        raise PermanentError(f"dataset {path} is not UTF-8 text: {e}") from None
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise PermanentError(f"dataset {path} line {number}: not valid JSON ({e.msg})") from None
        fmt, problem = check_row(dataset_type, row)
        if fmt is None:
            raise PermanentError(f"dataset {path} line {number}: {problem}")
        rows.append(row)
    if not rows:
        raise PermanentError(f"dataset {path} has no rows")
    return rows


def split_eval(rows: list[Any], seed: int) -> tuple[list[Any], list[Any]]:
    """Holds out ~5% of the rows (1..200) for eval_loss once there are at least 20; the choice depends on the seed."""
    if len(rows) < 20:
        return rows, []
    import random

    n_eval = max(1, min(200, len(rows) // 20))
    picked = set(random.Random(seed).sample(range(len(rows)), n_eval))
    train = [r for i, r in enumerate(rows) if i not in picked]
    held = [r for i, r in enumerate(rows) if i in picked]
    return train, held
