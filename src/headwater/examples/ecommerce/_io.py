"""Column converters and file sinks shared by the generator.

Everything here turns numpy arrays into Arrow columns without a Python loop, and writes them in
chunks, so scale 100 (ten million orders) never holds a whole file in memory and the bytes on disk
depend only on the data (no timestamps or random names in file metadata).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
TS_UTC = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(12, 2)


def money(cents: np.ndarray) -> pa.Array:
    """Exact DECIMAL(12,2) from integer cents (no float rounding on the way)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)  # two's complement sign extension to 128 bits
    return pa.Array.from_buffers(MONEY, len(cents), [None, pa.py_buffer(words)])


def money_text(cents: np.ndarray) -> pa.Array:
    """Cents as '12.30' strings, the way a CSV export of a DECIMAL column looks."""
    return money(cents).cast(pa.string())


def timestamps(us: np.ndarray) -> pa.Array:
    """Microseconds since the epoch as timestamp[us, UTC]."""
    return pa.array(np.asarray(us, dtype=np.int64), type=pa.int64()).cast(TS_UTC)


def iso_text(us: np.ndarray, millis: bool = False) -> pa.Array:
    """ISO-8601 UTC strings ('2025-03-01T12:00:00Z', or '...00.123Z' with milliseconds).

    Built as fixed-width bytes with integer arithmetic: Arrow's strftime and timestamp-to-string
    casts take seconds per million rows, this takes milliseconds.
    """
    us = np.asarray(us, dtype=np.int64)
    day = (us // US_PER_DAY).astype("datetime64[D]")
    month_start = day.astype("datetime64[M]")
    fields = [  # (value, width, separator that follows)
        (day.astype("datetime64[Y]").astype(np.int64) + 1970, 4, "-"),
        (month_start.astype(np.int64) % 12 + 1, 2, "-"),
        ((day - month_start.astype("datetime64[D]")).astype(np.int64) + 1, 2, "T"),
        (us // 3_600_000_000 % 24, 2, ":"),
        (us // 60_000_000 % 60, 2, ":"),
        (us // US_PER_SECOND % 60, 2, "." if millis else "Z"),
    ]
    if millis:
        fields.append((us // 1_000 % 1_000, 3, "Z"))
    width = sum(w + 1 for _, w, _ in fields)
    text = np.empty((len(us), width), dtype=np.uint8)
    col = 0
    for value, digits, sep in fields:
        for i in range(digits - 1, -1, -1):
            text[:, col + i] = 48 + value % 10
            value = value // 10
        text[:, col + digits] = ord(sep)
        col += digits + 1
    small = len(us) * width < 2**31  # 32-bit offsets while they fit
    offsets = np.arange(0, (len(us) + 1) * width, width, dtype=np.int32 if small else np.int64)
    return pa.Array.from_buffers(pa.string() if small else pa.large_string(), len(us),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(text)])


def dates(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Days since the epoch as date32; null where ``missing`` is true."""
    values = np.asarray(days, dtype=np.int32)
    return pa.array(values, type=pa.int32(), mask=missing).cast(pa.date32())


def pick(values: list[str], codes: np.ndarray) -> pa.Array:
    """Strings from a small vocabulary by integer code (a vectorised ``values[code]``)."""
    return pa.array(values, type=pa.string()).take(pa.array(np.asarray(codes, dtype=np.int64)))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation; plain str parts are broadcast."""
    args = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, "")


class Sink:
    """Rows written to one file in chunks; ``rows`` counts what was written."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        self._write(table.select(self.schema.names).cast(self.schema))

    def _write(self, table: pa.Table) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> int:
        return self.rows

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ParquetSink(Sink):
    """A Parquet file; each ``write`` becomes one or more row groups of at most 1M rows."""

    ROW_GROUP = 1_000_000

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        super().__init__(path, schema)
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def _write(self, table: pa.Table) -> None:
        self._writer.write_table(table, row_group_size=self.ROW_GROUP)

    def close(self) -> int:
        self._writer.close()
        return self.rows


class CsvSink(Sink):
    """A CSV file with a header; strings quoted, nulls empty."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        super().__init__(path, schema)
        self._writer = pcsv.CSVWriter(path, schema)

    def _write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> int:
        self._writer.close()
        return self.rows


class JsonlSink(Sink):
    """JSON lines, built column-wise with Arrow string kernels instead of ``json.dumps`` per row.

    Integers are written bare, strings quoted (quotes and backslashes escaped; the generator never
    produces control characters), nulls as ``null``.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        super().__init__(path, schema)
        self._file: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()

    def _write(self, table: pa.Table) -> None:
        parts: list[pa.Array | str] = []
        for i, field in enumerate(self.schema):
            parts.append(("{" if i == 0 else ",") + f'"{field.name}":')
            parts.extend(_json_values(table.column(i).combine_chunks(), field.type))
        parts.append("}\n")
        _write_values(self._file, concat(*_merge_literals(parts)))

    def close(self) -> int:
        self._file.close()
        return self.rows


def _json_values(col: pa.Array, kind: pa.DataType) -> list[pa.Array | str]:
    if pa.types.is_integer(kind):
        return [pc.fill_null(col.cast(pa.string()), "null")]
    if _needs_escape(col):
        col = pc.replace_substring(pc.replace_substring(col, "\\", "\\\\"), '"', '\\"')
    if col.null_count == 0:
        return ['"', col, '"']  # the quotes merge into the neighbouring literals
    return [pc.fill_null(concat('"', col, '"'), "null")]


def _merge_literals(parts: list[pa.Array | str]) -> list[pa.Array | str]:
    merged: list[pa.Array | str] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return merged


def _needs_escape(col: pa.Array) -> bool:
    # Two substring scans are much cheaper than two replace passes over every value.
    return any(pc.any(pc.match_substring(col, ch)).as_py() for ch in ('"', "\\"))


def _write_values(file: BinaryIO, lines: pa.Array) -> None:
    # Every line ends in "\n", so the array's contiguous value buffer is the file content.
    lines = lines.cast(pa.large_string())
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    offsets = offsets[lines.offset: lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    if data is not None and len(lines):
        file.write(memoryview(data)[int(offsets[0]): int(offsets[-1])])
