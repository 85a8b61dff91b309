"""What every mode shares around its steps: signals, periodic checkpoints and the stop-after-SIGTERM rule."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from .checkpoints import write_checkpoint
from .errors import EXIT_RETRYABLE
from .events import EventSink


class StopFlag:
    """First SIGTERM/SIGINT: finish the step, checkpoint, exit 10. A second one: leave at once."""

    def __init__(self) -> None:
        self.requested: str | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested is None:
            self.requested = name
            return
        # No event here: the main thread may hold the event stream's lock. The previous checkpoint stays valid.
        sys.stderr.write(f"{name} while stopping after {self.requested}: exiting without a new checkpoint\n")
        sys.stderr.flush()
        os._exit(EXIT_RETRYABLE)


class CheckpointPolicy:
    """Decides after each step whether to checkpoint and whether to stop; the mode supplies the writers."""

    def __init__(
        self,
        spec: dict[str, Any],
        sink: EventSink,
        stop: StopFlag,
        write_files: Callable[[str], None],
        state: Callable[[], dict[str, Any]],
        on_checkpoint: Callable[[int], None] | None = None,
    ) -> None:
        self._ckpt = spec["checkpoint"]
        self._sink = sink
        self._stop = stop
        self._write_files = write_files
        self._state = state
        self._on_checkpoint = on_checkpoint
        self.last_path: str | None = None

    def write(self, step: int) -> str:
        path = write_checkpoint(self._ckpt["dir"], step, self._ckpt["keep_last"], self._write_files, self._state())
        self.last_path = path
        self._sink.checkpoint(step, path)
        if self._on_checkpoint is not None:
            self._on_checkpoint(step)
        return path

    def after_step(self, step: int, total: int, metrics: dict[str, float]) -> bool:
        """True when the run must stop now (a checkpoint was written and the `result` event emitted)."""
        if step >= total:
            return False
        written = step % self._ckpt["every_n_steps"] == 0
        if written:
            self.write(step)
        return self.stop_if_requested(step, metrics, already_written=written)

    def stop_if_requested(self, step: int, metrics: dict[str, float], already_written: bool = False) -> bool:
        if self._stop.requested is None:
            return False
        path = self.last_path if already_written and self.last_path else self.write(step)
        self._sink.result(
            "checkpointed", step, metrics, f"stopped by {self._stop.requested} at step {step}; checkpoint {path}"
        )
        return True
