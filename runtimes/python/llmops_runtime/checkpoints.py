"""Checkpoint directories: `<checkpoint.dir>/step-<n>/`, written atomically, pruned to `keep_last`.

A checkpoint is complete when its `state.json` exists; it is written last inside a temporary directory that is
then renamed, so a crash mid-write leaves only a `.tmp-*` directory that the next write removes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from typing import Any

from .errors import PermanentError
from .events import EventSink

STATE_FILE = "state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def list_checkpoints(root: str) -> list[tuple[int, str]]:
    """Complete checkpoints under root, oldest first."""
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        m = _STEP_DIR.match(name)
        path = os.path.join(root, name)
        if m and os.path.isfile(os.path.join(path, STATE_FILE)):
            found.append((int(m.group(1)), path))
    return sorted(found)


def resolve_resume(checkpoint: dict[str, Any], sink: EventSink) -> str | None:
    """The checkpoint directory to resume from, or None to start fresh."""
    wanted = checkpoint["resume_from"]
    if wanted is None:
        return None
    if wanted == "latest":
        existing = list_checkpoints(checkpoint["dir"])
        if not existing:
            sink.log("warning", f"resume_from is 'latest' but {checkpoint['dir']} has no checkpoint: starting fresh")
            return None
        return existing[-1][1]
    candidates = [wanted] if os.path.isabs(wanted) else [wanted, os.path.join(checkpoint["dir"], wanted)]
    for path in candidates:
        if os.path.isfile(os.path.join(path, STATE_FILE)):
            return path
    raise PermanentError(f"checkpoint.resume_from: {wanted} is not a checkpoint directory (no {STATE_FILE} in it)")


def read_state(path: str) -> dict[str, Any]:
    with open(os.path.join(path, STATE_FILE), encoding="utf-8") as f:
        state: dict[str, Any] = json.load(f)
    return state


def write_checkpoint(
    root: str, step: int, keep_last: int, write_files: Callable[[str], None], state: dict[str, Any]
) -> str:
    """Writes `step-<step>` through a temporary directory and returns its path."""
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):
        if name.startswith(".tmp-step-"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    final = os.path.join(root, f"step-{step}")
    tmp = os.path.join(root, f".tmp-step-{step}-{os.getpid()}")
    os.makedirs(tmp)
    write_files(tmp)
    with open(os.path.join(tmp, STATE_FILE), "w", encoding="utf-8") as f:
        json.dump({**state, "step": step}, f)
        f.flush()
        os.fsync(f.fileno())
    if os.path.exists(final):
        # Same step written again (a run resumed from an older checkpoint): the new one replaces it.
        shutil.rmtree(final)
    os.rename(tmp, final)
    for _, old in list_checkpoints(root)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return final
