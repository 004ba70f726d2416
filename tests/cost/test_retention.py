"""Retention on real Iceberg tables: frees exactly what it promised, never a file a live
snapshot references, and every kept snapshot still reads the same rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.cost.conftest import build
from tests.projects import MINI_FILES

SHORT = MINI_FILES["products/sales.yaml"].replace(
    "            primary_key: [order_id]\n",
    "            primary_key: [order_id]\n            retention: {snapshots: 1h, min_snapshots: 2}\n")


def _disk(platform, product: str) -> dict[str, int]:
    folder = Path(platform.lakehouse.warehouse) / platform.lakehouse.namespace / product
    return {str(f): f.stat().st_size for f in folder.rglob("*")
            if f.is_file() and not f.name.endswith(".metadata.json")}


def _contents(platform, product: str) -> dict[int, list]:
    """Every live snapshot's rows, read straight from its data files."""
    out = {}
    for snap in platform.lakehouse.snapshots(product):
        plan = platform.lakehouse.plan(product, as_of=snap.snapshot_id)
        rows = [r for f in plan.files for r in pq.read_table(f).to_pylist()]
        out[snap.snapshot_id] = sorted(rows, key=lambda r: sorted(r.items()).__repr__())
    return out


@pytest.fixture
def history(tmp_path):
    platform = build(tmp_path / "mini", runs=4, **{"products/sales.yaml": SHORT})
    for day in ("2026-01-01", "2026-01-02"):  # partition runs: later snapshots share files
        platform.clock.advance(timedelta(hours=1))
        assert platform.run(["stg_orders"], partition=day).status == "success"
    platform.clock.advance(timedelta(hours=2))
    return platform


def test_retention_frees_exactly_the_bytes_it_promised(history):
    plan = history.cost.retention_plan(["stg_orders"])
    [orders] = plan.products
    assert orders.expire_ids and orders.bytes > 0 and plan.applied is False
    before = _disk(history, "stg_orders")
    assert set(orders.files) <= {"file://" + p for p in before}  # dry run deleted nothing
    kept_rows = {sid: rows for sid, rows in _contents(history, "stg_orders").items()
                 if sid in orders.keep_ids}

    done = history.cost.retention_apply(["stg_orders"])
    [applied] = done.products
    after = _disk(history, "stg_orders")
    assert applied.freed_bytes == orders.bytes == sum(before.values()) - sum(after.values())
    assert applied.deleted_files == len(before) - len(after) == len(orders.files)
    assert applied.expire_ids == orders.expire_ids and not applied.skipped_referenced

    remaining = _contents(history, "stg_orders")
    assert set(remaining) == set(orders.keep_ids)
    assert remaining == kept_rows
    assert history.cost.retention_plan(["stg_orders"]).bytes == 0


def test_retention_never_deletes_a_file_a_live_snapshot_references(history):
    from headwater.cost.storage import table_files

    table = history.lakehouse.load("stg_orders")
    before = table_files(table, "stg_orders", {})
    plan = history.cost.retention_plan(["stg_orders"]).products[0]
    kept_refs = before.live_files(plan.keep_ids)
    shared = set(before.live_files(plan.expire_ids)) & set(kept_refs)
    assert shared, "partition runs should make expiring and kept snapshots share files"

    history.cost.retention_apply(["stg_orders"])
    fresh = history.lakehouse.load("stg_orders")
    after = table_files(fresh, "stg_orders", {})
    for path in after.live_files():
        assert fresh.io.new_input(path).exists(), path
    assert set(after.live_files()) == set(kept_refs)
    assert [s.snapshot_id for s in after.snapshots if s.snapshot_id == after.current_id] \
        == [before.current_id]


def test_products_within_retention_keep_everything(history):
    report = history.cost.retention_apply(["stg_customers", "daily_revenue"])
    assert [p.expire_ids for p in report.products] == [[], []]
    assert report.freed_bytes == 0


def test_runs_go_on_after_retention(history):
    history.cost.retention_apply()
    history.clock.advance(timedelta(hours=1))
    assert history.run().status == "success"
    assert history.query("SELECT count(*) AS n FROM daily_revenue").column("n")[0].as_py() > 0


def test_the_last_check_keeps_a_file_a_live_snapshot_references(history):
    """Even a wrong plan cannot delete a live file: apply re-reads the metadata after the expiry."""
    from headwater.cost.retention import _expire_and_delete, plan_product
    from headwater.cost.storage import table_files

    table = history.lakehouse.load("stg_orders")
    files = table_files(table, "stg_orders", {})
    plan = plan_product(history.project, "stg_orders", files, history.clock.now())
    live = history.lakehouse.plan("stg_orders").files[0]
    plan.files["file://" + live] = Path(live).stat().st_size  # a planning bug, injected
    _expire_and_delete(history, table, plan, {})
    assert plan.skipped_referenced == ["file://" + live]
    assert Path(live).exists()
    assert history.query("SELECT count(*) AS n FROM stg_orders").column("n")[0].as_py() > 0
