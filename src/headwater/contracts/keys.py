"""Exact duplicate keys without a hash table, when the key is one integer column of narrow range.

A ``unique`` rule counts the rows whose non-null key already appeared (the extra occurrences).
The general way is a hash aggregate over the key, which dominates a check over millions of
distinct ids. When the key is a single integer column whose values span at most ``MAX_SPAN``
(surrogate and sequence ids usually do), two cheaper structures give the same answer:

* counting: ``count(k) - bit_count(bitstring_agg(k, lo, hi))`` in the engine, one bit per
  possible value, in the same pass as the other rules (``bitstring_sql``);
* per row (the gate): a ``numpy.bincount`` over ``k - lo`` finds the duplicated keys, and only
  their rows are ranked to keep the first occurrence (``duplicate_rows``).

Anything else (composite keys, strings, sparse ranges) keeps the hash aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def bitstring_sql(column: str, keys: KeyRange) -> str:
    """SQL counting the extra occurrences of non-null ``column`` values (0 when all are null)."""
    if keys.lo is None:
        return "0"
    return f"count({column}) - coalesce(bit_count(bitstring_agg({column}, {keys.lo}, {keys.hi})), 0)"


def duplicate_rows(values: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Positions of rows whose key appeared at an earlier position (sorted), or None if not narrow.

    Memory: one int64 per non-null row (the offsets), one int64 per possible key (the counts,
    freed before the rows are looked up) and a byte per possible key and per row.
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
    where = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False)) if values.null_count else None
    dense = values.drop_null() if values.null_count else values
    chunks = dense.chunks if isinstance(dense, pa.ChunkedArray) else [dense]
    offset = np.empty(len(dense), np.int64)
    at = 0
    for chunk in chunks:  # key - lo, written straight into one array (no concatenated copy first)
        np.subtract(chunk.to_numpy(zero_copy_only=False), keys.lo, out=offset[at:at + len(chunk)],
                    dtype=np.int64, casting="unsafe")
        at += len(chunk)
    seen_twice = np.bincount(offset, minlength=keys.span) > 1
    repeated = np.flatnonzero(seen_twice[offset])  # rows of keys seen more than once (few, usually)
    if not len(repeated):
        return np.empty(0, np.int64)
    order = np.lexsort((repeated, offset[repeated]))  # by key, then by position
    ranked, key_sorted = repeated[order], offset[repeated][order]
    later = np.ones(len(ranked), bool)
    later[0] = False
    later[1:] = key_sorted[1:] == key_sorted[:-1]
    extra = np.sort(ranked[later])
    return extra if where is None else where[extra]
