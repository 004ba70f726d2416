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

import functools
import os

DECAY_MS = 30_000
HEAP_KEEP_MB = 512
MMAP_THRESHOLD = 32 << 20  # glibc's largest accepted value on 64-bit (HEAP_MAX_SIZE / 2)


def keep_freed_pages() -> str:
    """Set mimalloc's purge delay for this process (and its children); returns the delay in ms."""
    delay = os.environ.get("HEADWATER_ARROW_DECAY_MS", "").strip() or str(DECAY_MS)
    if not delay.isdigit():
        delay = str(DECAY_MS)  # not worth failing an import over: the default applies
    return os.environ.setdefault("MIMALLOC_PURGE_DELAY", delay)


@functools.cache
def keep_heap_pages() -> int:
    """Let glibc's malloc keep up to ``HEADWATER_HEAP_KEEP_MB`` (default 512) freed MB per arena.

    DuckDB allocates with the C library's malloc, including the Arrow buffers it hands Python
    (``to_arrow_reader``). glibc serves blocks of 32 MB and more with their own ``mmap`` and, once
    its threshold has adapted, trims freed memory past 2x the largest such block, so every batch
    of e-mails read from Parquet faulted its ~25 MB in afresh: 0.13-0.2 CPU-s of page faults per
    10M e-mails (ADR 0011). Blocks up to 32 MB come from the arenas and freed ones are kept up to
    the limit. Called by the first DuckDB session of a process (engines/duckdb.py), once.
    Returns the limit in MB; 0 (or a C library without ``mallopt``): left as it was.
    """
    import ctypes

    raw = os.environ.get("HEADWATER_HEAP_KEEP_MB", "").strip()
    keep = int(raw) if raw.isdigit() else HEAP_KEEP_MB
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"; None or an error elsewhere
    except (AttributeError, ValueError, OSError):
        glibc = None
    if not keep or not glibc:
        return 0
    try:
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
        if not (libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD) and libc.mallopt(m_trim_threshold, keep << 20)):
            return 0
    except (OSError, AttributeError):
        return 0
    return keep


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
