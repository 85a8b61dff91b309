import sys

if len(sys.argv) > 1 and sys.argv[1] == "serve":
    # `python -m llmops_runtime serve …`: the model server (llmops_runtime.serving).
    from .serving.main import main as serve

    raise SystemExit(serve(sys.argv[2:]))

from .cli import main  # noqa: E402 — the training entry point imports only when no subcommand is given

raise SystemExit(main())
