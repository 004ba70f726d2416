"""Sorted distinct integers, without numpy's hash-based ``np.unique``.

NumPy 2.3+ answers ``np.unique`` (and ``np.union1d``, built on it) for integer arrays with a hash
table and then sorts the result. On this kind of input (millions of row positions or keys) that
is 10-15x slower than sorting and dropping repeats: 3.3 s against 0.22 s for 3.5M row positions
(2.9M failing rows of a dirty batch and 0.6M more from the pattern rules), which made the gate's
pass on a dirty 10M-row batch take 4.2 s instead of ~1 s.
"""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, ascending (``np.unique`` without its hash table).

    A stable sort (timsort) finds the sorted runs the callers usually hand over (row positions,
    concatenated): 3.5M positions in two sorted runs sort in 0.008 s instead of 0.21 s; random
    input costs ~15% more than the default sort."""
    out = np.sort(values, kind="stable")
    if len(out) < 2:
        return out
    keep = np.empty(len(out), dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


def sorted_union(*arrays: np.ndarray) -> np.ndarray:
    """The distinct values of all ``arrays`` (integers), ascending (``np.union1d`` without hashing)."""
    return sorted_unique(np.concatenate(arrays)) if arrays else np.empty(0, np.int64)
