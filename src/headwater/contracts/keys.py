"""Exact duplicate keys without a hash table, when the key is one integer column of narrow range.

A ``unique`` rule counts the rows whose non-null key already appeared (the extra occurrences).
The general way is a hash aggregate over the key, which dominates a check over millions of
distinct ids. When the key is a single integer column whose values span at most ``MAX_SPAN``
(surrogate and sequence ids usually do), two cheaper structures give the same answer:

* counting (``contract check``): a byte per possible value marks the keys seen, chunk by chunk
  as the column streams past (``KeyCount``); the extra occurrences are the non-null rows minus
  the marked bytes (ADR 0010);
* per row (the gate): a ``numpy.bincount`` over ``k - lo`` finds the duplicated keys, and only
  their rows are ranked to keep the first occurrence (``duplicate_rows``).

Anything else (composite keys, strings, sparse ranges) keeps the hash aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.arrays import sorted_union
from headwater.arrow_memory import scratch

MAX_SPAN = 1 << 27  # bits: 16 MiB per aggregate state in the engine, 1 GiB of counts at most in numpy


@dataclass(frozen=True)
class KeyRange:
    """The smallest and largest non-null key (None when every key is null)."""

    lo: int | None
    hi: int | None

    @property
    def span(self) -> int:
        return 0 if self.lo is None else self.hi - self.lo + 1

    def narrow(self, rows: int) -> bool:
        """Small enough for a bit per value: at most MAX_SPAN and 64 bits per row (and within int64)."""
        if self.lo is not None and not (-(1 << 63) <= self.lo and self.hi < 1 << 63):
            return False  # uint64 keys above int64: left to the hash aggregate
        return self.span <= min(MAX_SPAN, max(64 * rows, 1 << 20))


KEEP_ROWS = 1 << 25  # offsets kept to name duplicated keys: 4 bytes a row, 128 MiB at most


class KeyCount:
    """The extra occurrences of one integer key column fed chunk by chunk, and up to ``k`` repeated keys.

    One byte per possible key (``seen[key - lo] = 1``): no count per value and no hash, so feeding
    10M keys costs ~15 ms. Repeated keys are named from the keys a chunk finds already marked
    (the key appeared in an earlier chunk); their occurrences come from the offsets kept as int32
    (while the column has at most ``KEEP_ROWS`` rows). ``samples()`` is None when it cannot name
    them (keys repeated only within one chunk, or too many rows kept): the caller reads the
    column again.
    """

    def __init__(self, keys: KeyRange, k: int) -> None:
        self.lo, self.k = keys.lo or 0, k
        self.seen = scratch(keys.span, np.uint8)
        self.seen[:] = 0
        self.rows = 0
        self.again: dict[int, None] = {}  # offsets of keys found repeated, in the order found
        self.kept: list[np.ndarray] | None = [] if k else None

    def add(self, values: pa.Array | pa.ChunkedArray) -> None:
        for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
            if chunk.null_count:
                chunk = chunk.drop_null()
            offset = np.subtract(chunk.to_numpy(zero_copy_only=False), self.lo, dtype=np.int64, casting="unsafe")
            if self.k and len(self.again) < self.k:
                hits = offset[self.seen[offset] != 0]  # keys marked by an earlier chunk
                if len(hits):
                    _, first = np.unique(hits, return_index=True)
                    for key in hits[np.sort(first)][: self.k - len(self.again)]:
                        self.again.setdefault(int(key), None)
            self.seen[offset] = 1
            self.rows += len(offset)
            if self.kept is not None and self.rows <= KEEP_ROWS:
                self.kept.append(offset.astype(np.int32))  # offsets < MAX_SPAN
            else:
                self.kept = None

    def extra(self) -> int:
        return self.rows - int(np.count_nonzero(self.seen))

    def samples(self) -> list[tuple[int, int]] | None:
        """Up to ``k`` repeated keys with their occurrences; None if they cannot be named here."""
        extra = self.extra()
        if not extra or not self.k:
            return []
        if self.kept is None or not self.again:
            return None
        out = []
        for key in list(self.again)[: self.k]:
            out.append((key + self.lo, sum(int(np.count_nonzero(part == key)) for part in self.kept)))
        if len(out) < self.k and sum(n - 1 for _, n in out) < extra:
            return None  # another key repeats within one chunk only: not found here
        return out


def duplicate_rows(values: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Positions of rows whose key appeared at an earlier position (sorted), or None if not narrow.

    Chunk by chunk, with two arrays over the possible keys, both from Arrow's pool (kept warm
    between batches, arrow_memory.py): a byte marking the keys of earlier chunks (a row whose
    key is marked is an extra occurrence) and an int32 position per key, written by every row of
    the chunk. A row whose slot holds another row's position shares its key within the chunk:
    only those rows are ranked, to keep each key's first row. Memory: 5 bytes per possible key
    and a few temporaries per chunk.
    """
    if not pa.types.is_integer(values.type):
        return None
    n = len(values)
    bounds = pc.min_max(values).as_py()
    keys = KeyRange(bounds["min"], bounds["max"])
    if keys.lo is None or n < 2:
        return np.empty(0, np.int64)
    if not keys.narrow(n):
        return None
    seen = scratch(keys.span, np.uint8)
    seen[:] = 0
    slot = scratch(keys.span, np.int32)  # read only where this chunk wrote
    out, at = [], 0
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        where = np.flatnonzero(chunk.is_valid().to_numpy(zero_copy_only=False)) if chunk.null_count else None
        dense = chunk.drop_null() if chunk.null_count else chunk
        offset = np.subtract(dense.to_numpy(zero_copy_only=False), keys.lo, dtype=np.int64, casting="unsafe")
        extra = seen[offset] != 0  # the key appeared in an earlier chunk
        local = np.arange(len(offset), dtype=np.int32)
        slot[offset] = local
        shared = np.flatnonzero(slot[offset] != local)  # rows whose key another row of this chunk holds
        if len(shared):
            group = sorted_union(shared, slot[offset[shared]])  # every row of those keys
            group = group[~extra[group]]  # keys new in this chunk: their first row stays
            order = np.lexsort((group, offset[group]))  # by key, then by position
            ranked, key_sorted = group[order], offset[group][order]
            later = np.zeros(len(ranked), bool)
            later[1:] = key_sorted[1:] == key_sorted[:-1]
            extra[ranked[later]] = True
        seen[offset] = 1
        rows = np.flatnonzero(extra)
        out.append((rows if where is None else where[rows]) + at)
        at += len(chunk)
    return np.concatenate(out).astype(np.int64) if out else np.empty(0, np.int64)
