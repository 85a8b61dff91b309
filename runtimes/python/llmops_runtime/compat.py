"""Work-arounds for running the pinned libraries on Debian's torch 1.13 under Python 3.11.

torch 1.13 predates Python 3.11 support: `import torch.distributed.fsdp` fails there (a dataclass with a
mutable default that 3.11 rejects). transformers' generate() imports it only to ask whether the model is wrapped
by FSDP, which it cannot be without an initialised process group, so the question is answered without the import.
"""

from __future__ import annotations

from typing import Any


def patch_transformers_for_torch1() -> None:
    import torch

    if int(torch.__version__.split(".")[0]) >= 2:
        return
    import transformers.generation.utils as generation
    import transformers.integrations.fsdp as fsdp

    def is_fsdp_managed_module(module: Any) -> bool:
        return bool(getattr(module, "_is_fsdp_managed_module", False))

    fsdp.is_fsdp_managed_module = is_fsdp_managed_module
    generation.is_fsdp_managed_module = is_fsdp_managed_module  # type: ignore[attr-defined]
