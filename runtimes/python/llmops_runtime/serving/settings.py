"""Options of the model server, parsed once: command-line arguments, each with an LLMOPS_* environment fallback."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

SERVE_TARGETS = ("GENERATION", "RAG")


@dataclass(frozen=True)
class ServeSettings:
    model_dir: str
    model_name: str
    host: str
    port: int
    port_file: str | None
    serve_target: str
    max_input_tokens: int | None
    max_output_tokens: int | None
    threads: int | None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return n


def _port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0..65535, got {value}")
    return n


def _target(value: str) -> str:
    if value.upper() not in SERVE_TARGETS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(SERVE_TARGETS)}, got {value!r}")
    return value.upper()


def parse_settings(argv: list[str]) -> ServeSettings:
    """Exits with status 2 and a usage message on bad arguments (argparse's convention)."""
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="python -m llmops_runtime serve",
        description="Serve a Hugging Face model folder with an OpenAI-compatible API.",
    )
    p.add_argument("--model", dest="model_dir", default=env("LLMOPS_MODEL_DIR"), help="model folder (LLMOPS_MODEL_DIR)")
    p.add_argument("--model-name", default=env("LLMOPS_MODEL_NAME"), help="name in /v1/models (default: folder name)")
    p.add_argument("--host", default=env("LLMOPS_SERVE_HOST", "127.0.0.1"))
    p.add_argument(
        "--port", type=_port, default=env("LLMOPS_SERVE_PORT", "8080"), help="0 picks a free port (see --port-file)"
    )
    p.add_argument(
        "--port-file", default=env("LLMOPS_SERVE_PORT_FILE"), help="write the bound port here once listening"
    )
    p.add_argument("--serve-target", type=_target, default=env("LLMOPS_SERVE_TARGET", "GENERATION"))
    p.add_argument(
        "--max-input-tokens",
        type=_positive,
        default=env("LLMOPS_MAX_INPUT_TOKENS"),
        help="longest prompt accepted, counted with the model's tokenizer",
    )
    p.add_argument(
        "--max-output-tokens",
        type=_positive,
        default=env("LLMOPS_MAX_OUTPUT_TOKENS"),
        help="largest max_tokens accepted, and the default max_tokens",
    )
    p.add_argument("--threads", type=_positive, default=env("LLMOPS_SERVE_THREADS"), help="torch CPU threads")
    a = p.parse_args(argv)
    if not a.model_dir:
        p.error("--model (or LLMOPS_MODEL_DIR) is required")
    # argparse applies `type` to string defaults, so the environment fallbacks are checked the same way.
    model_dir = os.path.abspath(a.model_dir)
    return ServeSettings(
        model_dir=model_dir,
        model_name=a.model_name or os.path.basename(model_dir.rstrip(os.sep)) or "model",
        host=a.host,
        port=a.port,
        port_file=a.port_file,
        serve_target=a.serve_target,
        max_input_tokens=a.max_input_tokens,
        max_output_tokens=a.max_output_tokens,
        threads=a.threads,
    )
