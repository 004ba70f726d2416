"""The quarantine: failing rows kept in ``<product>__quarantine`` (an Iceberg table) with why.

Each row keeps the product's columns plus ``_hw_*`` columns: the rule ids and reasons, run,
step, source position, contract version and the batch key. Writes are idempotent per batch key:
one commit replaces every row of the keys it covers, so a step retried after a crash between
the quarantine write and the main write leaves exactly one copy of its quarantined rows.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.contracts.duckdb_compiler import BITS
from headwater.errors import StorageError
from headwater.storage.arrow_types import conform

if TYPE_CHECKING:
    from headwater.contracts.duckdb_compiler import Verdict
    from headwater.storage.lakehouse import Lakehouse

SUFFIX = "__quarantine"
META = ("_hw_id", "_hw_batch", "_hw_rules", "_hw_reasons", "_hw_run_id", "_hw_step_id",
        "_hw_source_position", "_hw_contract_version", "_hw_quarantined_at", "_hw_replay")


def table_name(product: str) -> str:
    return product + SUFFIX


def batch_keys(product, batch: pa.Table, source_position: str | None) -> tuple[list[str], pa.Array]:
    """The keys this batch covers, and the key of each row.

    A lane with a source position (stream offsets, CDC LSN, a batch partition) keys by it; a
    partitioned batch product keys rows by their partition; otherwise the product has one key.
    """
    n = batch.num_rows
    if source_position:
        return [source_position], pa.array([source_position] * n, pa.string())
    part = product.partitioning.column if getattr(product, "partitioning", None) else None
    if part and part in batch.column_names:
        values = pc.cast(batch.column(part), pa.string())
        per_row = pc.binary_join_element_wise(pa.scalar(f"{part}="), pc.fill_null(values, "null"), "")
        return sorted(set(pc.unique(per_row).to_pylist())), per_row
    return ["all"], pa.array(["all"] * n, pa.string())


def build_rows(rows: pa.Table, positions: np.ndarray, verdict: Verdict, keys: pa.Array, *,
               run_id: str, step_id: str, source_position: str | None, version: str,
               now: datetime) -> pa.Table:
    """The quarantine rows for the failing ``positions`` (indexes into verdict.failing_rows)."""
    rules, reasons = broken_lists(positions, verdict)
    batch_rows = verdict.failing_rows[positions]
    out = rows
    row_keys = keys.take(pa.array(batch_rows)) if len(batch_rows) else pa.array([], pa.string())
    ids = pc.binary_join_element_wise(row_keys, pc.cast(pa.array(batch_rows, pa.int64()), pa.string()), "#")
    n = out.num_rows
    meta = {"_hw_id": ids, "_hw_batch": row_keys,
            "_hw_rules": rules, "_hw_reasons": reasons,
            "_hw_run_id": pa.array([run_id] * n, pa.string()),
            "_hw_step_id": pa.array([step_id] * n, pa.string()),
            "_hw_source_position": pa.array([source_position] * n, pa.string()),
            "_hw_contract_version": pa.array([version] * n, pa.string()),
            "_hw_quarantined_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
            "_hw_replay": pa.array([None] * n, pa.string())}
    for name, values in meta.items():
        out = out.append_column(name, values)
    return out


def broken_lists(positions: np.ndarray, verdict: Verdict) -> tuple[pa.Array, pa.Array]:
    """Per quarantined row, the ids and reasons of the rules it broke, built from the bit masks."""
    checks = verdict.row_checks
    hits = np.zeros((len(positions), len(checks)), dtype=bool)
    for i in range(len(checks)):
        hits[:, i] = (verdict.failing_masks[i // BITS][positions] >> (i % BITS)) & 1 == 1
    offsets = pa.array(np.concatenate([[0], np.cumsum(hits.sum(axis=1))]).astype(np.int32))
    which = pa.array(np.nonzero(hits)[1].astype(np.int32))  # row-major: each row's rules in plan order
    ids = pa.array([c.id for c in checks], pa.string()).take(which)
    reasons = pa.array([c.reason for c in checks], pa.string()).take(which)
    return pa.ListArray.from_arrays(offsets, ids), pa.ListArray.from_arrays(offsets, reasons)


def write(lakehouse: Lakehouse, product: str, rows: pa.Table, keys: list[str],
          properties: dict[str, str]) -> int | None:
    """Replace the quarantine rows of ``keys`` with ``rows`` in one commit; the snapshot id."""
    from pyiceberg.expressions import In

    from headwater.storage.evolution import plan_schema_change

    name = table_name(product)
    props = {("headwater." + k): str(v) for k, v in properties.items()}
    if not lakehouse.exists(name):
        if rows.num_rows == 0:
            return None
        snap = lakehouse.write(name, rows, mode="append", partition_column="_hw_batch", properties=properties)
        return snap.snapshot_id
    data = conform(rows)
    try:
        table = lakehouse.load(name)
        txn = table.transaction()
        plan_schema_change(name, txn, table.schema(), data.schema, allow_breaking=False)
        txn.overwrite(data, overwrite_filter=In("_hw_batch", keys), snapshot_properties=props)
        txn.commit_transaction()
    except StorageError:
        raise
    except Exception as exc:  # pyiceberg commit and IO errors, translated at this boundary
        raise StorageError(f"writing the quarantine of {product!r} failed: {exc}",
                           fix="nothing was committed; run the step again") from exc
    snap = lakehouse.current(name)
    return snap.snapshot_id if snap else None


def read(lakehouse: Lakehouse, product: str, as_of=None) -> pa.Table | None:
    """Every quarantined row of ``product`` (None when nothing was ever quarantined)."""
    name = table_name(product)
    if not lakehouse.exists(name):
        return None
    table = lakehouse.load(name)
    snapshot_id = lakehouse.resolve_snapshot(table, as_of)
    if snapshot_id is None:
        return None
    return table.scan(snapshot_id=snapshot_id).to_arrow()


def replay_id(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:24]


def strip_meta(rows: pa.Table) -> pa.Table:
    return rows.drop_columns([c for c in META if c in rows.column_names])
