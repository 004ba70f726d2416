"""The embedded engine: DuckDB reading source files and Iceberg data files directly."""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from headwater.arrow_memory import keep_heap_pages
from headwater.engines.base import InputStats
from headwater.errors import EngineError, SpecError
from headwater.storage.parquet_names import physical_name

if TYPE_CHECKING:
    from headwater.spec.source import FileSource
    from headwater.storage.lakehouse import ScanPlan

_READERS = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _file_list(files: list[str]) -> str:
    return "[" + ", ".join(_literal(f) for f in files) + "]"


class DuckDBSession:
    """One DuckDB connection for one step: inputs registered as views, one query, closed."""

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        import duckdb

        keep_heap_pages()  # DuckDB allocates with glibc's malloc, its Arrow output too (ADR 0011)
        self._duckdb = duckdb
        self.con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1,
                                          **({"memory_limit": memory_limit} if memory_limit else {})})
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")  # headwater draws its own progress

    def register_source(self, name: str, source: FileSource, root: Path) -> InputStats:
        pattern = str(root / source.path)
        files = sorted(glob.glob(pattern)) if any(c in source.path for c in "*?[") else \
            ([pattern] if os.path.exists(pattern) else [])
        if not files:
            raise SpecError(f"source {name!r} has no files at {source.path!r}",
                            location=_where(source), fix="check the path, or generate the data first")
        options = dict(source.options)
        if source.format == "jsonl":
            options.setdefault("format", "newline_delimited")
        if source.format == "parquet":
            options.setdefault("union_by_name", True)
        opts = "".join(f", {k} = {_literal(v)}" for k, v in options.items())
        reader = _READERS[source.format]
        self._execute(f"CREATE OR REPLACE VIEW {_quote_ident(name)} AS "
                      f"SELECT * FROM {reader}({_file_list(files)}{opts})", name)
        size, digest = 0, hashlib.sha1()
        for f in files:
            st = os.stat(f)
            size += st.st_size
            digest.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
        return InputStats(name, _count_rows(source.format, files), size, digest.hexdigest()[:16])

    def register_plan(self, name: str, plan: ScanPlan) -> InputStats:
        """``name`` as a view of the snapshot, with the table schema's columns and types.

        Data files written before a column was added lack it, and a table may have no file
        with it at all (a run that wrote no rows still evolves the schema): such a column reads
        as a typed NULL. A column an older file holds with an older (promoted) type is cast."""
        typed = f"__hw_schema_{name}"
        self.con.register(typed, plan.schema.empty_table())
        if not plan.files:
            self._execute(f"CREATE OR REPLACE VIEW {_quote_ident(name)} AS "
                          f"SELECT * FROM {_quote_ident(typed)}", name)
            return InputStats(name, plan.record_count, plan.bytes, str(plan.snapshot_id))
        want = self._describe(f"SELECT * FROM {_quote_ident(typed)}", name)
        scan = f"read_parquet({_file_list(plan.files)}, union_by_name = true"
        have = self._describe(f"SELECT * FROM {scan})", name)
        for column in want:  # pyiceberg writes "order id" as "order_x20id" (parquet_names.py)
            if column not in have and physical_name(column) in have:
                have[column] = (have[physical_name(column)], physical_name(column))
        if plan.delete_files:
            # merge-on-read: drop the rows the position delete files name (ADR 0006)
            deletes = f"__hw_deletes_{name}"
            self.con.register(deletes, plan.deletes())
            columns = ", ".join(_column(c, t, have.get(c), "d.") for c, t in want.items())
            self._execute(
                f"CREATE OR REPLACE VIEW {_quote_ident(name)} AS SELECT {columns} FROM "
                f"{scan}, filename = '__hw_file', file_row_number = true) AS d "
                f"ANTI JOIN {_quote_ident(deletes)} AS x "
                f"ON d.__hw_file = x.file AND d.file_row_number = x.pos", name)
        else:
            columns = ", ".join(_column(c, t, have.get(c)) for c, t in want.items())
            self._execute(f"CREATE OR REPLACE VIEW {_quote_ident(name)} AS "
                          f"SELECT {columns or '*'} FROM {scan})", name)
        return InputStats(name, plan.record_count, plan.bytes, str(plan.snapshot_id))

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def footer_null_counts(self, files: Sequence[str], schema: pa.Schema, columns: Iterable[str]) -> dict[str, int]:
        """Nulls per column of ``files`` read as ``register_plan`` reads them, from the Parquet
        footers alone (no data read), for the columns they answer exactly (contracts/footers.py).

        A file without the column reads it as NULL: all its rows count. Left out: a nested column
        or a name that could be taken for one's path (DuckDB joins those with ", "), a chunk
        without the statistic, a file holding the column under another case (DuckDB binds names
        without regard to case), and everything when a file is listed twice or a footer cannot
        be read."""
        names = sorted(c for c in columns if _flat(schema, c))
        if not names or not files or len(set(files)) != len(files):  # a file listed twice is read twice
            return {}
        spellings = {n: {n, physical_name(n)} for n in names}
        every = sorted(set().union(*spellings.values()))
        try:
            # one lower() for both sides, DuckDB's: Python's str.lower folds some letters otherwise
            folded = self.con.execute("SELECT n, lower(n) FROM unnest(?) AS t(n)", [every]).fetchall()
            rows = dict(self.con.execute("SELECT file_name, num_rows FROM parquet_file_metadata(?)",
                                         [list(files)]).fetchall())
            chunks = self.con.execute("SELECT file_name, path_in_schema, lower(path_in_schema), stats_null_count "
                                      "FROM parquet_metadata(?) WHERE lower(path_in_schema) IN "
                                      "(SELECT lower(n) FROM unnest(?) AS t(n))", [list(files), every]).fetchall()
        except self._duckdb.Error:
            return {}
        owner: dict[str, set[str]] = {}  # a folded spelling -> the columns it may stand for
        for spelling, low in folded:
            owner.setdefault(low, set()).update(n for n in names if spelling in spellings[n])
        nulls: dict[str, int | None] = dict.fromkeys(names, 0)
        holding: dict[str, set[str]] = {n: set() for n in names}
        for file, path, low, count in chunks:
            for column in owner.get(low, ()):
                holding[column].add(file)
                exact = path in spellings[column] and len(owner[low]) == 1
                nulls[column] = None if not exact or count is None or nulls[column] is None else nulls[column] + count
        return {c: n + sum(r for file, r in rows.items() if file not in holding[c])
                for c, n in nulls.items() if n is not None}

    def query(self, sql: str) -> pa.Table:
        try:
            return self.con.sql(sql).to_arrow_table()
        except self._duckdb.Error as exc:
            raise EngineError(f"the engine rejected the query: {exc}",
                              fix="fix the SQL; 'headwater query' runs it interactively") from exc

    def _describe(self, sql: str, name: str) -> dict[str, str]:
        """Column name -> DuckDB type of ``sql``'s result (reads Parquet footers, no data)."""
        try:
            return {row[0]: row[1] for row in self.con.execute(f"DESCRIBE {sql}").fetchall()}
        except self._duckdb.Error as exc:
            raise EngineError(f"cannot read input {name!r}: {exc}",
                              fix="check the files and the source's format/options") from exc

    def _execute(self, sql: str, name: str) -> None:
        try:
            self.con.execute(sql)
        except self._duckdb.Error as exc:
            raise EngineError(f"cannot read input {name!r}: {exc}",
                              fix="check the files and the source's format/options") from exc

    def close(self) -> None:
        self.con.close()


def _column(name: str, want: str, have: str | tuple[str, str] | None, qualifier: str = "") -> str:
    """One select item giving column ``name`` the table schema's type ``want``; ``have`` is its
    type in the data files read (with the name it has there when that differs), None when no
    file holds it."""
    ident = _quote_ident(name)
    if have is None:
        return f"CAST(NULL AS {want}) AS {ident}"
    source = ident
    if isinstance(have, tuple):
        have, source = have[0], _quote_ident(have[1])
    if have != want:
        return f"CAST({qualifier}{source} AS {want}) AS {ident}"
    return qualifier + source + (f" AS {ident}" if source != ident else "")


def _flat(schema: pa.Schema, column: str) -> bool:
    """A top-level column of a primitive type, whose Parquet path is its name (DuckDB joins a
    nested column's path with ", ": a top-level name holding one could be taken for it)."""
    if column not in schema.names or ", " in column:
        return False
    kind = schema.field(column).type
    return not (pa.types.is_nested(kind) or pa.types.is_dictionary(kind))


def _where(source: FileSource):
    from headwater.errors import Location

    return Location(f"sources: {source.name}")


def _count_rows(fmt: str, files: list[str]) -> int | None:
    """Rows in the input, read cheaply: Parquet footers, line counts for CSV and JSON lines."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    total = 0
    for f in files:
        lines, last = 0, b"\n"
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 22):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        lines += 0 if last == b"\n" else 1
        total += max(lines - 1, 0) if fmt == "csv" else lines
    return total


class DuckDBEngine:
    NAME = "duckdb"
    DIALECT = "duckdb"
    SUPPORTS_SQL = True
    SUPPORTS_PYTHON_TRANSFORM = True

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit

    def session(self) -> DuckDBSession:
        return DuckDBSession(self.threads, self.memory_limit)
