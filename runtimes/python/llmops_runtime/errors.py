"""Failure classes of the runtime and the exit codes the platform maps them to (RUNTIME_EXIT_CODES)."""

from __future__ import annotations

EXIT_SUCCEEDED = 0
EXIT_CHECKPOINTED = 10
EXIT_RETRYABLE = 20
EXIT_PERMANENT = 30


class RuntimeFailure(Exception):
    """A failure with a known exit code; the message is what the platform shows to the user."""

    exit_code = EXIT_RETRYABLE


class PermanentError(RuntimeFailure):
    """Will fail again on retry: bad spec, bad data, unsupported mode or model."""

    exit_code = EXIT_PERMANENT


class RetryableError(RuntimeFailure):
    """May pass on retry: I/O trouble, out of memory, a node without the requested hardware."""

    exit_code = EXIT_RETRYABLE


class SpecError(PermanentError):
    """The spec file is malformed; `field` is the dotted path of the offending value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid spec: {field}: {problem}" if field else f"invalid spec: {problem}")
        self.field = field


class StopRequested(Exception):
    """Raised from a signal handler when a second signal asks to stop without finishing the checkpoint."""
