"""Named crash points for the crash harness.

``HEADWATER_KILL_AT=gate:3`` makes the process SIGKILL itself the third time it reaches the
``gate`` point. Points: read, decode, gate, quarantine-commit, commit (just before the catalog
commit, data files written), committed (after it, before the ack), ack (after the ack), window.
Without the variable, ``reach`` is one dict lookup.
"""

from __future__ import annotations

import os
import signal

_TARGET: tuple[str, int] | None = None
_COUNTS: dict[str, int] = {}


def configure(spec: str | None) -> None:
    """Arm (``name:n``) or disarm (None) the kill point; read from the environment at import."""
    global _TARGET
    _COUNTS.clear()
    if not spec:
        _TARGET = None
        return
    name, _, n = spec.partition(":")
    _TARGET = (name, int(n or 1))


def reach(name: str) -> None:
    if _TARGET is None or _TARGET[0] != name:
        return
    _COUNTS[name] = _COUNTS.get(name, 0) + 1
    if _COUNTS[name] >= _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)


configure(os.environ.get("HEADWATER_KILL_AT"))
