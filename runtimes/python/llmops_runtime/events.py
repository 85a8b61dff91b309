"""The event stream: one JSON object per line on the original stdout, flushed line by line.

Everything else that would reach stdout (library prints, progress bars, C extensions writing to fd 1) is
redirected to stderr, so the platform can trust every stdout line to be an event.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from typing import Any, TextIO

from . import __version__


def now_ms() -> float:
    """Event timestamps are milliseconds since the Unix epoch, like Date.now() on the platform side."""
    return float(int(time.time() * 1000))


class EventSink:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.last_step = 0

    @classmethod
    def take_stdout(cls) -> EventSink:
        """Keeps a private duplicate of fd 1 for events, then points fd 1 and sys.stdout at stderr."""
        sys.stdout.flush()
        events_fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return cls(os.fdopen(events_fd, "w", encoding="utf-8", buffering=1))

    def emit(self, event: dict[str, Any]) -> None:
        line = json.dumps({**event, "ts": now_ms()}, ensure_ascii=False, allow_nan=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def started(self, mode: str, resumed_from_step: int | None) -> None:
        self.emit(
            {
                "type": "started",
                "mode": mode,
                "resumed_from_step": resumed_from_step,
                "runtime_version": __version__,
            }
        )

    def progress(self, step: int, total_steps: int, epoch: float) -> None:
        self.last_step = step
        self.emit({"type": "progress", "step": step, "total_steps": total_steps, "epoch": max(0.0, epoch)})

    def metric(self, step: int, values: dict[str, float]) -> None:
        finite = {k: float(v) for k, v in values.items() if math.isfinite(float(v))}
        if finite:
            self.emit({"type": "metric", "step": step, "values": finite})

    def checkpoint(self, step: int, path: str) -> None:
        self.emit({"type": "checkpoint", "step": step, "path": path})

    def artifact(self, kind: str, path: str, fmt: str | None) -> None:
        self.emit({"type": "artifact", "kind": kind, "path": path, "format": fmt})

    def log(self, level: str, message: str) -> None:
        self.emit({"type": "log", "level": level, "message": message})

    def result(self, status: str, step: int, metrics: dict[str, float], message: str | None) -> None:
        finite = {k: float(v) for k, v in metrics.items() if math.isfinite(float(v))}
        self.emit({"type": "result", "status": status, "step": step, "metrics": finite, "message": message})
