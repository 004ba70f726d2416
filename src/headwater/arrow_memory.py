"""Arrow's memory pool keeps freed pages for a while, so the next batch reuses them (ADR 0009).

A lane handles batch after batch of the same shape: the gate's split copies the passing rows,
the pattern search joins values into blocks. pyarrow's default pool, mimalloc, hands freed
pages back to the kernel after a second (pyarrow 26), so a batch arriving later faults its
memory in afresh: a page fault per 4 KiB touched, up to ~1.8 ms per MB on the 2-vCPU VM the
benchmarks ran on (the gate's split of 10M rows: 0.18-0.27 s warm, 0.5-1.5 s cold).

``keep_freed_pages`` sets mimalloc's purge delay to ``HEADWATER_ARROW_DECAY_MS`` (default 30 s):
pages freed by one batch are reused by the next, and go back to the kernel once they have been
free that long (checked whenever mimalloc next runs). mimalloc reads its options when pyarrow's
library loads, so ``headwater/__init__.py`` calls this before anything imports pyarrow; an
explicit ``MIMALLOC_PURGE_DELAY`` wins, and a process that loaded pyarrow before headwater keeps
pyarrow's setting. Other pools (``ARROW_DEFAULT_MEMORY_POOL=jemalloc|system``) are left as they are.
"""

from __future__ import annotations

import os

DECAY_MS = 30_000


def keep_freed_pages() -> str:
    """Set mimalloc's purge delay for this process (and its children); returns the delay in ms."""
    delay = os.environ.get("HEADWATER_ARROW_DECAY_MS", "").strip() or str(DECAY_MS)
    if not delay.isdigit():
        delay = str(DECAY_MS)  # not worth failing an import over: the default applies
    return os.environ.setdefault("MIMALLOC_PURGE_DELAY", delay)


def scratch(length: int, dtype):
    """An uninitialised numpy array in Arrow's pool: a large scratch array reused warm between batches.

    numpy's own large allocations go back to the kernel when freed (glibc unmaps them), so an
    array of a few tens of MB faults every page in again on each call; Arrow's pool keeps them
    (see above). The array holds the buffer alive.
    """
    import numpy as np
    import pyarrow as pa

    kind = np.dtype(dtype)
    return np.frombuffer(pa.allocate_buffer(max(length, 1) * kind.itemsize), kind, count=length)
