"""The PostgreSQL source on the real server: snapshot, then streamed transactions, exactly once."""

from __future__ import annotations

import json

import psycopg
import pytest

from headwater.errors import HeadwaterError
from tests.cdc.helpers import cdc_project, mirror_rows
from tests.cdc.pg import ORDERS, assert_mirror_equals_source, connect, libpq, source_rows


def _project(tmp_path, url, **kw):
    return cdc_project(tmp_path / "p", kind="postgres", url=libpq(url), table="public.orders",
                       slot="hw_orders", **kw)


def _slot_lsn(url):
    with connect(url) as conn:
        return conn.execute("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                            "WHERE slot_name = 'hw_orders'").fetchone()[0]


def test_snapshot_then_stream_of_transactions(tmp_path, fresh_pg_database):
    url = fresh_pg_database
    with connect(url) as conn:
        conn.execute(ORDERS)
        conn.execute("INSERT INTO orders (id, status, amount, note) SELECT g, 'new', g * 1.25, 'n' || g "
                     "FROM generate_series(1, 250) g")
    platform = _project(tmp_path, url)
    first = platform.cdc.run("products_mirror", until_idle=0, max_batch=100)
    assert first.status == "success", first.error
    assert first.batches == 3 and first.changes == 250  # the snapshot, in chunks
    assert_mirror_equals_source(platform, url)
    with connect(url) as conn:
        with conn.transaction():
            conn.execute("UPDATE orders SET status = 'paid', amount = amount + 1 WHERE id % 3 = 0")
            conn.execute("DELETE FROM orders WHERE id % 10 = 0")
            conn.execute("INSERT INTO orders (id, status, amount) VALUES (1000, 'new', 9.99)")
        conn.execute("UPDATE orders SET note = NULL WHERE id = 1")
        conn.execute("UPDATE orders SET id = 2000 WHERE id = 2")  # the key itself changes
    before = len(platform.lakehouse.snapshots("products_mirror"))
    second = platform.cdc.run("products_mirror", until_idle=0, max_batch=10)
    assert second.status == "success", second.error
    assert_mirror_equals_source(platform, url)
    # a transaction is never split: the first one alone is more than max_batch changes
    assert len(platform.lakehouse.snapshots("products_mirror")) - before == second.batches == 2
    summary = platform.lakehouse.current("products_mirror").summary
    positions = json.loads(summary["headwater.cdc.positions"])
    assert positions["phase"] == "stream" and positions["lsn"] == _slot_lsn(url)  # advanced after commit
    third = platform.cdc.run("products_mirror", until_idle=0)
    assert third.changes == 0 and third.batches == 0
    [idle] = platform.cdc.status()
    assert idle.last_lsn == positions["lsn"] and idle.lag_seconds == 0.0 and idle.lag_bytes is not None
    assert idle.rows == len(source_rows(url)) and idle.changes_per_second
    with connect(url) as conn:
        conn.execute("UPDATE orders SET status = 'late' WHERE id = 1")
    [behind] = platform.cdc.status()
    assert behind.lag_bytes > 0 and behind.lag_seconds is not None and behind.lag_seconds >= 0


def _mirrored(tmp_path, url: str, *seed: str):
    """The orders table created (and seeded with ``seed`` statements), mirrored once: the platform."""
    with connect(url) as conn:
        conn.execute(ORDERS)
        for statement in seed:
            conn.execute(statement)
    platform = _project(tmp_path, url)
    assert platform.cdc.run("products_mirror", until_idle=0).status == "success"
    return platform


def test_unchanged_toast_values_are_kept(tmp_path, fresh_pg_database):
    url = fresh_pg_database
    platform = _mirrored(tmp_path, url)
    big = "SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 400) g"
    with connect(url) as conn:
        conn.execute(f"INSERT INTO orders (id, status, note) VALUES (1, 'new', ({big}))")
        conn.execute(f"INSERT INTO orders (id, status, note) VALUES (2, 'new', ({big}))")
    assert platform.cdc.run("products_mirror", until_idle=0).status == "success"
    with connect(url) as conn:
        with conn.transaction():
            conn.execute("UPDATE orders SET status = 'paid' WHERE id = 1")  # note stays out of line
            conn.execute("UPDATE orders SET status = 'shipped' WHERE id = 1")
        conn.execute("UPDATE orders SET status = 'paid' WHERE id = 2")
        peek = conn.execute("SELECT data FROM pg_logical_slot_peek_changes('hw_orders', NULL, NULL, "
                            "'format-version', '2')").fetchall()
    # wal2json really omitted the unchanged TOASTed column
    updates = [json.loads(d) for (d,) in peek if '"action":"U"' in d]
    assert updates and all("note" not in [c["name"] for c in u["columns"]] for u in updates)
    result = platform.cdc.run("products_mirror", until_idle=0)
    assert result.status == "success", result.error
    assert_mirror_equals_source(platform, url)
    assert len(mirror_rows(platform)[0]["note"]) == 400 * 32


def test_new_column_evolves_dropped_column_stops_the_lane(tmp_path, fresh_pg_database):
    url = fresh_pg_database
    platform = _mirrored(tmp_path, url, "INSERT INTO orders (id, status) VALUES (1, 'new')")
    with connect(url) as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN channel varchar(20)")
        conn.execute("INSERT INTO orders (id, status, channel) VALUES (2, 'new', 'web')")
    added = platform.cdc.run("products_mirror", until_idle=0)
    assert added.status == "success", added.error
    assert [c["column"] for c in added.schema_changes] == ["channel"]
    assert_mirror_equals_source(platform, url)
    snap = platform.lakehouse.current("products_mirror").snapshot_id
    with connect(url) as conn:
        conn.execute("ALTER TABLE orders DROP COLUMN note")
        conn.execute("INSERT INTO orders (id, status) VALUES (3, 'new')")
    stopped = platform.cdc.run("products_mirror", until_idle=0)
    assert stopped.status == "failed"
    assert "'note' dropped at the source" in stopped.error and "contract" in stopped.fix
    assert platform.lakehouse.current("products_mirror").snapshot_id == snap  # nothing committed
    accepted = platform.cdc.run("products_mirror", until_idle=0, accept_schema_change=True)
    assert accepted.status == "success", accepted.error
    assert_mirror_equals_source(platform, url)


def test_replica_identity_and_key_are_checked(tmp_path, fresh_pg_database):
    url = fresh_pg_database
    with connect(url) as conn:
        conn.execute("CREATE TABLE orders (id integer, status text)")
    platform = _project(tmp_path, url)
    with pytest.raises(HeadwaterError) as info:
        platform.cdc.run("products_mirror", until_idle=0)
    assert "REPLICA IDENTITY FULL" in info.value.fix
    with connect(url) as conn:
        conn.execute("ALTER TABLE orders REPLICA IDENTITY FULL")
        conn.execute("INSERT INTO orders VALUES (1, 'a')")
        conn.execute("CREATE TABLE other (k int primary key)")
    assert platform.cdc.run("products_mirror", until_idle=0).status == "success"
    with connect(url) as conn:
        conn.execute("INSERT INTO other VALUES (1)")  # another table's traffic moves the slot on
        conn.execute("DELETE FROM orders WHERE id = 1")
    assert platform.cdc.run("products_mirror", until_idle=0).deletes == 1
    assert mirror_rows(platform) == []
    _ = psycopg


def test_changes_applied_before_a_lost_slot_advance_do_not_stall_the_lane(tmp_path, fresh_pg_database,
                                                                          monkeypatch):
    """A crash between the Iceberg commit and the slot advance leaves applied transactions in
    the slot. With max_batch smaller than them, every peek used to return only those, which the
    lane skips: it made no progress until the slot was advanced by hand."""
    from headwater.sources.postgres import PostgresSource

    url = fresh_pg_database
    platform = _mirrored(tmp_path, url, "INSERT INTO orders (id, status, amount) "
                                        "SELECT g, 'new', g FROM generate_series(1, 5) g")
    slot_before = _slot_lsn(url)
    with connect(url) as conn:
        for key in (1, 2, 3):
            conn.execute("UPDATE orders SET status = 'paid' WHERE id = %s", (key,))
    with monkeypatch.context() as patch:  # the crash: committed to Iceberg, the slot not advanced
        patch.setattr(PostgresSource, "_advance", lambda self, lsn: False)
        lost = platform.cdc.run("products_mirror", until_idle=0)
    assert lost.status == "success" and lost.changes == 3
    assert _slot_lsn(url) == slot_before
    with connect(url) as conn:
        conn.execute("UPDATE orders SET status = 'shipped' WHERE id = 5")
    after = platform.cdc.run("products_mirror", until_idle=0, max_batch=1)
    assert after.status == "success", after.error
    assert after.changes == 1  # the new transaction, and none of the three applied before
    assert_mirror_equals_source(platform, url)
    positions = json.loads(platform.lakehouse.current("products_mirror").summary["headwater.cdc.positions"])
    assert _slot_lsn(url) == positions["lsn"]
