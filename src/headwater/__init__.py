"""headwater: a control plane for data platforms.

The public API is small: the ``Platform`` facade, the project loader, the clock and the errors.
Everything else is internal and may change. Names load lazily so that ``import headwater`` (and
the CLI's start-up) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from headwater.arrow_memory import keep_freed_pages

keep_freed_pages()  # before anything loads pyarrow: mimalloc reads its options then (arrow_memory.py)

__version__ = "0.1.0"

_EXPORTS = {
    "Platform": "headwater.platform",
    "RunResult": "headwater.runner",
    "Project": "headwater.spec.project",
    "load_project": "headwater.spec.loader",
    "Clock": "headwater.clock",
    "FrozenClock": "headwater.clock",
    "HeadwaterError": "headwater.errors",
    "SpecError": "headwater.errors",
    "SpecErrors": "headwater.errors",
    "NotFoundError": "headwater.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'headwater' has no attribute {name!r}")
