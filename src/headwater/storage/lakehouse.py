"""The Iceberg lakehouse: one SQL catalog, one namespace per project, one table per product.

Every write is one atomic catalog commit; the lane's position and run id ride in the snapshot
summary of that same commit (ARCHITECTURE decision 2). Engines read a snapshot by planning the
scan here and reading the listed data files themselves (decision 1).
"""

from __future__ import annotations

import os

import threading
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc

from headwater.errors import NotFoundError, StorageError
from headwater.storage.arrow_types import conform
from headwater.storage.evolution import plan_schema_change
from headwater.storage.overwrite import overwrite_partitions
from headwater.storage.txn_metadata import memoise

if TYPE_CHECKING:
    from pyiceberg.table import Table

WriteMode = Literal["replace", "partitions", "partition", "append"]
SUMMARY_PREFIX = "headwater."


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: int
    committed_at: datetime
    operation: str
    summary: dict[str, str]

    @property
    def run_id(self) -> str | None:
        return self.summary.get(SUMMARY_PREFIX + "run-id")

    @property
    def rows(self) -> int:
        """Live rows: the data files' records less the rows position delete files remove."""
        return int(self.summary.get("total-records", 0)) - int(self.summary.get("total-position-deletes", 0))

    def to_dict(self) -> dict[str, Any]:
        return {"snapshot_id": self.snapshot_id, "committed_at": self.committed_at.isoformat(),
                "operation": self.operation, "summary": self.summary}


@dataclass(frozen=True)
class ScanPlan:
    """The data files of one snapshot, ready for an engine to read.

    ``delete_files`` are position delete files (merge-on-read, ADR 0006): a reader drops the rows
    they name, by (data file, row position); ``record_count`` already excludes them.
    """

    table: str
    snapshot_id: int | None
    schema: pa.Schema
    files: list[str] = field(default_factory=list)
    record_count: int = 0
    bytes: int = 0
    delete_files: list[str] = field(default_factory=list)

    def deletes(self) -> pa.Table:
        """(file, pos) of every row the delete files remove, ``file`` as in ``files``."""
        import pyarrow.parquet as pq

        tables = []
        for path in self.delete_files:
            table = pq.read_table(path, columns=["file_path", "pos"])
            paths = table.column("file_path").combine_chunks()
            if isinstance(paths, pa.DictionaryArray):
                paths = paths.cast(pa.string())
            unique = pc.unique(paths)
            local = pa.array([_local_path(p) for p in unique.to_pylist()], pa.string())
            tables.append(pa.table({"file": pc.take(local, pc.index_in(paths, value_set=unique)),
                                    "pos": table.column("pos").combine_chunks()}))
        if not tables:
            return pa.table({"file": pa.array([], pa.string()), "pos": pa.array([], pa.int64())})
        return pa.concat_tables(tables)


def _local_path(uri: str) -> str:
    """The local file of a data file location. pyiceberg keeps locations as written, without
    percent-decoding them (a partition value ``order_date=2026-11-08`` is written to the folder
    ``order_date%3D2026-11-08``), so the path is taken as it is; a decoded path is used only when
    the file exists under it alone."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("file", ""):
        return uri
    path = parsed.path
    if "%" in path and not os.path.exists(path) and os.path.exists(unquote(path)):
        return unquote(path)
    return path


class Lakehouse:
    """Tables of one project in an Iceberg SQL catalog (SQLite or PostgreSQL)."""

    def __init__(self, catalog_url: str, warehouse: Path | str, namespace: str,
                 catalog_name: str = "headwater", commands: dict[str, str] | None = None) -> None:
        self.commands = commands or {}  # table -> the command that writes it (for "no table yet")
        self.catalog_url = catalog_url
        self.warehouse = str(warehouse)
        self.namespace = namespace
        self.catalog_name = catalog_name
        self._catalog = None
        self._lock = threading.Lock()

    @property
    def catalog(self):
        with self._lock:
            return self._catalog or self._open()

    def _open(self):
        if self._catalog is None:
            from headwater.storage.metadata_cache import caching_catalog_class
            from headwater.storage.partition_split import install

            install()
            # an overwrite of partitions that do not exist yet is normal here, not a warning
            warnings.filterwarnings("ignore", message="Delete operation did not match any records")
            warehouse = self.warehouse
            if "://" not in warehouse:
                Path(warehouse).mkdir(parents=True, exist_ok=True)
                warehouse = Path(warehouse).resolve().as_uri()
            try:
                self._catalog = caching_catalog_class()(self.catalog_name, uri=self.catalog_url,
                                                        warehouse=warehouse)
                self._catalog.create_namespace_if_not_exists(self.namespace)
            except Exception as exc:  # driver errors vary by backend; translated at this boundary
                raise StorageError(
                    f"cannot open the Iceberg catalog at {self.catalog_url}: {exc}",
                    fix="check catalog.url in headwater.yaml / HEADWATER_CATALOG_URL and that the "
                        "database is reachable") from exc
        return self._catalog

    def identifier(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def exists(self, name: str) -> bool:
        return self.catalog.table_exists(self.identifier(name))

    def load(self, name: str) -> Table:
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return self.catalog.load_table(self.identifier(name))
        except NoSuchTableError:
            raise NotFoundError(f"{name!r} has no table yet",
                                fix=f"run it first: {self.commands.get(name, f'headwater run {name}')}") from None

    def tables(self) -> list[str]:
        return sorted(t[-1] for t in self.catalog.list_tables(self.namespace))

    def write(self, name: str, data: pa.Table, *, mode: WriteMode, partition_column: str | None = None,
              partition_value: Any = None, properties: dict[str, str] | None = None,
              allow_breaking: bool = False, replaced_partitions: list | None = None) -> SnapshotInfo:
        """Write ``data`` in one atomic commit and return the new snapshot.

        ``replace``: the table becomes ``data``. ``partitions``: the partitions present in ``data``
        are replaced, and those in ``replaced_partitions`` (values of the partition column) even
        where ``data`` has no row left for them; others are kept. ``partition``: exactly
        ``partition_value`` is replaced (an empty ``data`` empties it). ``append``: added. Schema
        changes that are compatible (new columns, widening) evolve the table; others need
        ``allow_breaking`` (a full refresh).
        """
        data = conform(data)
        props = {SUMMARY_PREFIX + k if not k.startswith(SUMMARY_PREFIX) else k: str(v)
                 for k, v in (properties or {}).items()}
        try:
            try:
                table = self.load(name)
            except NotFoundError:
                txn = self._create(name, data.schema, partition_column)
                mode = "append"  # a new table: its first data is simply appended, in the same commit
            else:
                txn = memoise(table.transaction())
                plan_schema_change(name, txn, table.schema(), data.schema, allow_breaking)
            _apply(txn, data, mode, partition_column, partition_value, props, replaced_partitions or [])
            table = txn.commit_transaction()
        except (StorageError, NotFoundError):
            raise
        except Exception as exc:  # pyiceberg raises CommitFailedException, ValueError, OSError...
            raise StorageError(f"writing {name!r} failed: {exc}",
                               fix="the table is unchanged; fix the cause and run again") from exc
        snap = table.current_snapshot()  # the committed metadata: no second catalog round trip
        return _info(snap) if snap is not None else self._missing_snapshot(name)

    def _create(self, name: str, schema: pa.Schema, partition_column: str | None):
        """A transaction that creates the table; the first data lands in the same commit."""
        if partition_column is not None and partition_column not in schema.names:
            raise StorageError(
                f"partition column {partition_column!r} is not in the output of {name!r}",
                fix=f"select a DATE column named {partition_column!r}, or change partitioning.column")
        txn = memoise(self.catalog.create_table_transaction(
            self.identifier(name), schema=schema,
            properties={"format-version": "2", "write.parquet.compression-codec": "zstd"}))
        if partition_column is not None:
            with txn.update_spec() as spec:
                spec.add_identity(partition_column)
        return txn

    def _missing_snapshot(self, name: str) -> SnapshotInfo:
        raise StorageError(f"{name!r} has no snapshot after writing",
                           fix="report this: a commit returned without a snapshot")

    def current(self, name: str) -> SnapshotInfo | None:
        table = self.load(name)
        snap = table.current_snapshot()
        return _info(snap) if snap is not None else None

    def snapshots(self, name: str) -> list[SnapshotInfo]:
        return [_info(s) for s in self.load(name).snapshots()]

    def resolve_snapshot(self, table: Table, as_of: str | int | datetime | None) -> int | None:
        """A snapshot id from an id, an ISO timestamp or a datetime (None: the current one)."""
        if as_of is None:
            snap = table.current_snapshot()
            return snap.snapshot_id if snap else None
        if isinstance(as_of, int) or (isinstance(as_of, str) and as_of.isdigit()):
            snap = table.snapshot_by_id(int(as_of))
            if snap is None:
                ids = ", ".join(str(s.snapshot_id) for s in table.snapshots()[-5:])
                raise NotFoundError(f"no snapshot {as_of} in {table.name()[-1]}",
                                    fix=f"use one of the recent snapshots: {ids}")
            return snap.snapshot_id
        when = as_of if isinstance(as_of, datetime) else _parse_time(as_of)
        snap = _visible_at(table, int(when.timestamp() * 1000))
        if snap is None:
            first = table.snapshots()[0] if table.snapshots() else None
            raise NotFoundError(
                f"{table.name()[-1]} has no snapshot at or before {when.isoformat()}",
                fix="pick a later time" + (f" (the first snapshot is at "
                                           f"{_info(first).committed_at.isoformat()})" if first else ""))
        return snap.snapshot_id

    def as_of_each(self, names: list[str], as_of: str | int | datetime | None) -> dict[str, str | int | datetime | None]:
        """The ``as_of`` each of several tables is read at, for one query over all of them.

        A snapshot id belongs to one table: that table is read at it, and the others as they
        were when it was committed, so a join sees one moment. A time applies to every table.
        """
        if not (isinstance(as_of, int) or (isinstance(as_of, str) and as_of.isdigit())) or len(names) < 2:
            return dict.fromkeys(names, as_of)
        owners = {n: snap for n in names if (snap := self.load(n).snapshot_by_id(int(as_of))) is not None}
        if not owners:
            raise NotFoundError(f"no table in the query ({', '.join(names)}) has snapshot {as_of}",
                                fix="`headwater snapshots PRODUCT` lists a table's snapshot ids; "
                                    "an ISO time (--as-of 2026-11-23T10:00:00Z) reads every table as of one moment")
        when = _info(next(iter(owners.values()))).committed_at
        return {n: int(as_of) if n in owners else when for n in names}

    def plan(self, name: str, as_of: str | int | datetime | None = None) -> ScanPlan:
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        table = self.load(name)
        snapshot_id = self.resolve_snapshot(table, as_of)
        if snapshot_id is None:
            return ScanPlan(name, None, schema_to_pyarrow(table.schema()))
        snap = table.snapshot_by_id(snapshot_id)
        schema = table.schemas().get(snap.schema_id, table.schema()) if snap.schema_id is not None \
            else table.schema()
        files, rows, size, deletes = [], 0, 0, {}
        for task in table.scan(snapshot_id=snapshot_id).plan_files():
            files.append(_local_path(task.file.file_path))
            rows += task.file.record_count
            size += task.file.file_size_in_bytes
            for d in task.delete_files:
                deletes[d.file_path] = d
        for d in deletes.values():  # each delete file written by headwater names one data file
            rows -= d.record_count
            size += d.file_size_in_bytes
        return ScanPlan(name, snapshot_id, schema_to_pyarrow(schema, include_field_ids=False),
                        files, rows, size, sorted(_local_path(p) for p in deletes))


def _apply(txn, data: pa.Table, mode: str, partition_column: str | None, partition_value: Any,
           props: dict[str, str], replaced: list) -> None:
    if mode == "replace":
        txn.overwrite(data, snapshot_properties=props)
    elif mode == "partitions" and partition_column:
        # one overwrite snapshot, files chosen by partition value (storage/overwrite.py, ADR 0005)
        if overwrite_partitions(txn, data, props, also=[{partition_column: v} for v in replaced]):
            return
        present = set(data.column(partition_column).unique().to_pylist()) if data.num_rows else set()
        emptied = [v for v in replaced if v not in present]
        if emptied:  # partitions left without a row (all quarantined): emptied in the same commit
            from pyiceberg.expressions import EqualTo, IsNull, Or

            terms = [IsNull(partition_column) if v is None else EqualTo(partition_column, v) for v in emptied]
            txn.delete(terms[0] if len(terms) == 1 else Or(*terms), snapshot_properties=props)
        if data.num_rows:
            txn.dynamic_partition_overwrite(data, snapshot_properties=props)
    elif mode == "partition":
        if not overwrite_partitions(txn, data, props, partition={partition_column: partition_value}):
            from pyiceberg.expressions import EqualTo

            txn.overwrite(data, overwrite_filter=EqualTo(partition_column, partition_value),
                          snapshot_properties=props)
    else:
        txn.append(data, snapshot_properties=props)


def _visible_at(table: Table, ts_ms: int):
    """The snapshot readers saw at ``ts_ms``.

    One commit may add several snapshots (an overwrite is a delete then an append); only the last
    of them was ever visible, so intermediate ones are passed over.
    """
    log = table.history()
    step_of = {s.snapshot_id: (s.summary.additional_properties.get(SUMMARY_PREFIX + "step-id")
                               if s.summary else None) for s in table.snapshots()}
    visible = None
    for i, entry in enumerate(log):
        if entry.timestamp_ms > ts_ms:
            break
        step = step_of.get(entry.snapshot_id)
        nxt = log[i + 1] if i + 1 < len(log) else None
        intermediate = step is not None and nxt is not None and step_of.get(nxt.snapshot_id) == step
        if not intermediate:
            visible = entry.snapshot_id
    return table.snapshot_by_id(visible) if visible is not None else None


def _info(snap) -> SnapshotInfo:
    summary = dict(snap.summary.additional_properties) if snap.summary else {}
    op = snap.summary.operation.value if snap.summary else "unknown"
    return SnapshotInfo(snap.snapshot_id,
                        datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=timezone.utc), op, summary)


def _parse_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise NotFoundError(f"{text!r} is neither a snapshot id nor an ISO timestamp",
                            fix="use e.g. --as-of 2026-11-23T10:00:00Z or --as-of 1234567890") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
