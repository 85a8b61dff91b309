"""Entry point of the model server: `python -m llmops_runtime serve …` (or `python -m llmops_runtime.serving …`).

Exit codes: SIGTERM/SIGINT stop the server gracefully, after which it ends by that signal (uvicorn re-raises
it); 2 bad arguments; 20 the address cannot be bound (may pass on retry);
30 the model folder is missing or cannot be loaded (will fail again). Failures are explained on stderr.
The socket is bound before the model loads, so /health answers at once and /ready turns 200 when loading ends.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

from ..errors import EXIT_PERMANENT, EXIT_RETRYABLE
from .engine import Engine, ModelFolderError, check_model_folder
from .settings import ServeSettings, parse_settings

EXIT_BAD_MODEL = EXIT_PERMANENT
EXIT_CANNOT_LISTEN = EXIT_RETRYABLE

_QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def _say(message: str) -> None:
    print(f"llmops-serve: {message}", file=sys.stderr, flush=True)


def _bind(settings: ServeSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off only on sockets whose protocol says TCP,
    # and accepted connections inherit it from this one. With Nagle on, a response written in two pieces
    # (headers, body) waits for the client's delayed ACK (~40 ms) on every kept-alive connection.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _write_port_file(path: str, port: int) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def _load_or_exit(engine: Engine, settings: ServeSettings) -> None:
    try:
        engine.load()
    except ModelFolderError as e:
        _say(str(e))
        os._exit(EXIT_BAD_MODEL)
    except BaseException as e:  # noqa: BLE001 — a server that cannot load must end, never hang half-alive
        _say(f"cannot load the model in {settings.model_dir}: {type(e).__name__}: {e}")
        os._exit(EXIT_BAD_MODEL)
    _say(f"model {settings.model_name} loaded from {settings.model_dir}: ready")


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(sys.argv[1:] if argv is None else argv)
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    try:
        check_model_folder(settings.model_dir)
    except ModelFolderError as e:
        _say(str(e))
        return EXIT_BAD_MODEL
    try:
        sock = _bind(settings)
    except OSError as e:
        _say(f"cannot listen on {settings.host}:{settings.port}: {e.strerror or e}")
        return EXIT_CANNOT_LISTEN
    port = sock.getsockname()[1]

    import uvicorn

    from .app import create_app

    engine = Engine(settings.model_dir, settings.threads)
    app = create_app(settings, engine)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5, lifespan="off")
    )
    if settings.port_file:
        _write_port_file(settings.port_file, port)
    _say(f"listening on http://{settings.host}:{port}, loading {settings.model_dir}")
    threading.Thread(target=_load_or_exit, args=(engine, settings), name="load-model", daemon=True).start()
    server.run(sockets=[sock])
    return 0
