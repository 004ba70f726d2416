"""Pattern rules on string columns: find the few failing rows without one RE2 call per row.

Asking RE2 "does this value match?" costs ~70-130 ns a row, mostly call overhead: on 10M
e-mails that is more than reading every column of the table. Failing rows are rare, so the
question is turned around (ADR 0008):

1. the rule's pattern is complemented (regex_dfa.py): a regex for one-line strings that do NOT
   match it;
2. the values are joined with newlines into blocks of ``BLOCK`` rows, and RE2 searches each block
   once for a line of the complement (a DFA scan at memory speed, no per-row call);
3. every row of a block with a hit, or with a value holding a newline, is checked again with the
   original pattern, so the verdict for each row is RE2's own;
4. empty strings are decided by the pattern (the blocks cannot show an empty line as a hit).

Patterns whose complement is not built (regex_dfa.py lists the syntax) are checked row by row.
Pieces of ``PIECE`` rows run in parallel (Arrow's kernels release the GIL).

The complement names code points, so invalid UTF-8 could hide a failing value: values are
validated first (~4 ms per 256k e-mails), unless the caller vouches for them (``valid_utf8``:
DuckDB's VARCHAR output, which DuckDB has already validated).
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.arrays import sorted_union
from headwater.contracts.plan import Check, CheckPlan
from headwater.contracts.regex_dfa import complement
from headwater.contracts.regex_glob import glob

BLOCK = 64
PIECE = 1 << 20


def anchored(pattern: str) -> str:
    """The pattern as a full match (the meaning of DuckDB's ``regexp_full_match``)."""
    return "^(?:" + pattern + ")$"


def scannable(check: Check, schema: pa.Schema) -> bool:
    """A pattern rule on a string column whose pattern RE2 accepts and GLOB cannot express."""
    if check.kind != "pattern" or check.columns[0] not in schema.names or glob(check.params["pattern"]):
        return False  # a GLOB in the engine's pass is cheaper still (regex_glob.py)
    kind = schema.field(check.columns[0]).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return False
    try:
        pc.match_substring_regex(pa.array([""]), anchored(check.params["pattern"]))
    except (pa.ArrowInvalid, UnicodeEncodeError):  # a lookahead, a lone surrogate: the engine reports it
        return False
    return True


def pattern_failures(plan: CheckPlan, batch: pa.Table) -> dict[str, np.ndarray]:
    """Check id -> sorted positions of the rows failing it, for pattern rules on string columns."""
    out: dict[str, np.ndarray] = {}
    for check in plan.row_checks:
        if scannable(check, batch.schema):
            out[check.id] = failing_positions(batch.column(check.columns[0]), check.params["pattern"])
    return out


def failing_positions(values: pa.ChunkedArray | pa.Array, pattern: str, *, valid_utf8: bool = False) -> np.ndarray:
    """Sorted positions of the non-null values that do not fully match ``pattern``.

    ``valid_utf8``: the values are known to be valid UTF-8 (they came out of DuckDB), so the
    check of every byte before the block search is skipped."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    pieces, starts, at = [], [], 0
    for chunk in chunks:
        for lo in range(0, len(chunk), PIECE):
            pieces.append(chunk.slice(lo, PIECE))
            starts.append(at + lo)
        at += len(chunk)
    if len(pieces) > 1:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            found = list(pool.map(lambda p: _piece(p, pattern, valid_utf8), pieces))
    else:
        found = [_piece(p, pattern, valid_utf8) for p in pieces]
    parts = [f + s for f, s in zip(found, starts)]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)


def _piece(arr: pa.Array, pattern: str, valid_utf8: bool = False) -> np.ndarray:
    comp = complement(pattern)
    index = None
    if arr.null_count:  # nulls pass every rule but not_null
        valid = arr.is_valid()
        index = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
        arr = arr.filter(valid)
    candidates = None
    if comp is not None and len(arr):
        regex, empty_fails = comp
        try:
            if not valid_utf8:
                arr.validate(full=True)  # the complement names code points: invalid UTF-8 would hide
            candidates = _blocks_hit(arr, regex)
        except pa.ArrowInvalid:  # invalid UTF-8, or RE2 refused the complement: row by row
            candidates = None
    if candidates is None:
        bad = _per_row(arr, pattern, None)
    else:
        if empty_fails:
            offsets = _offsets(arr)
            empties = np.flatnonzero(offsets[1:] == offsets[:-1])
            if len(empties):
                candidates = sorted_union(candidates, empties)
        bad = _per_row(arr, pattern, candidates)
    return bad if index is None else index[bad]


def _blocks_hit(arr: pa.Array, regex: str) -> np.ndarray:
    """Rows of the blocks where the complement finds a line (or a value holds a newline)."""
    list_offsets, offsets, sizes = _block_offsets(len(arr))
    lists = pa.ListArray.from_arrays(list_offsets, arr)
    blocks = pc.binary_join(lists, pa.scalar("\n", arr.type))
    hit = pc.match_substring_regex(blocks, "(?m)^(?:" + regex + ")$").to_numpy(zero_copy_only=False)
    if _has_newline(arr):  # a value holding a newline would read as two lines: check its block row by row
        newlines = pc.count_substring(blocks, "\n").to_numpy(zero_copy_only=False)
        hit = hit | (newlines != sizes - 1)
    which = np.flatnonzero(hit)
    if not len(which):
        return np.empty(0, np.int64)
    lo, counts = offsets[which], sizes[which]
    return np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))


@functools.lru_cache(maxsize=8)
def _block_offsets(n: int) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Where the blocks of ``n`` rows start (as list offsets, and as int64) and their sizes.

    Cached: a streamed read hands over batches of the same length, and building these was
    ~0.5 ms a batch."""
    offsets = np.arange(0, n + BLOCK, BLOCK, dtype=np.int64)
    offsets[-1] = n
    offsets.flags.writeable = False
    sizes = np.diff(offsets)
    sizes.flags.writeable = False
    return pa.array(offsets, pa.int32()), offsets, sizes  # element offsets: < 2**31 rows


def _offsets(arr: pa.Array) -> np.ndarray:
    """The value offsets of a string array, read in place."""
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    return np.frombuffer(arr.buffers()[1], np.int64 if large else np.int32, count=len(arr) + 1,
                         offset=arr.offset * (8 if large else 4))


def _has_newline(arr: pa.Array) -> bool:
    """Whether any value holds a newline: one RE2 literal search (a memchr) over the values' bytes, in place.

    The values' bytes are read as one binary value over the array's own data buffer, so nothing
    is copied (a copy cost 3-15 ms per 1M e-mails, mostly page faults; the search ~1 ms).
    """
    data = arr.buffers()[2]
    if data is None or not len(arr):
        return False
    offsets = _offsets(arr)
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi - lo >= 1 << 31:  # beyond what one RE2 search takes
        return memoryview(data)[lo:hi].tobytes().find(b"\n") >= 0
    span = pa.Array.from_buffers(pa.large_binary(), 1, [None, pa.py_buffer(np.array([lo, hi], np.int64)), data])
    return bool(pc.match_substring_regex(span, "\n")[0].as_py())


def _per_row(arr: pa.Array, pattern: str, rows: np.ndarray | None) -> np.ndarray:
    """Positions (among ``rows``, or all) whose value does not fully match ``pattern`` by RE2."""
    if rows is not None and not len(rows):
        return np.empty(0, np.int64)
    values = arr if rows is None else arr.take(pa.array(rows))
    ok = pc.fill_null(pc.match_substring_regex(values, anchored(pattern)), True)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
    return bad.astype(np.int64) if rows is None else rows[bad].astype(np.int64)
