"""Entry point: `python -m llmops_runtime` / `llmops-runtime`, spec path in LLMOPS_SPEC."""

from __future__ import annotations

import os
import sys
import traceback

from .errors import EXIT_RETRYABLE, RuntimeFailure
from .events import EventSink
from .loop import StopFlag
from .spec import load_spec

# Libraries must stay quiet on stdout and never reach for a model hub: inputs are local paths by contract.
_QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def _fail(sink: EventSink, code: int, message: str) -> int:
    sink.log("error", message)
    sink.result("failed", sink.last_step, {}, message)
    return code


def _is_out_of_memory(e: BaseException) -> bool:
    return isinstance(e, MemoryError) or "out of memory" in str(e).lower()


def main() -> int:
    # Signals first: a pause may arrive while the heavy libraries are still importing.
    stop = StopFlag()
    stop.install()
    sink = EventSink.take_stdout()
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    try:
        spec = load_spec(os.environ.get("LLMOPS_SPEC"))
        if spec["mode"] == "synthetic":
            from .synthetic import run_synthetic

            return run_synthetic(spec, sink, stop)
        from .training import run_training

        return run_training(spec, sink, stop)
    except RuntimeFailure as e:
        return _fail(sink, e.exit_code, str(e))
    except Exception as e:  # noqa: BLE001 — every failure must end in a result event and an exit code
        traceback.print_exc(file=sys.stderr)
        if _is_out_of_memory(e):
            return _fail(sink, EXIT_RETRYABLE, f"out of memory: {e}")
        if isinstance(e, OSError):
            return _fail(sink, EXIT_RETRYABLE, f"I/O error: {e}")
        # Unknown failures are reported as retryable: the platform caps retries, and the traceback is on stderr.
        return _fail(sink, EXIT_RETRYABLE, f"unexpected {type(e).__name__}: {e}")
