"""The batch lane end to end on real Iceberg tables: order, skips, idempotency, partitions, time travel."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from headwater.errors import NotFoundError
from headwater.platform import Platform
from tests.projects import mini_project, write_orders


def _rows(hw: Platform, sql: str) -> list[dict]:
    return hw.query(sql).to_pylist()


def test_runs_in_dependency_order_and_writes_iceberg_tables(mini):
    hw = Platform(mini)
    order = []
    result = hw.run(progress=lambda event, step: order.append((event, step.product)))
    assert result.ok, [s.error for s in result.steps]
    started = [p for e, p in order if e == "start"]
    assert started.index("daily_revenue") > started.index("stg_orders")
    assert started.index("daily_revenue") > started.index("stg_customers")
    assert hw.lakehouse.tables() == ["daily_revenue", "stg_customers", "stg_orders"]
    revenue = _rows(hw, "SELECT order_date, country, orders, revenue FROM daily_revenue ORDER BY 1, 2")
    # orders 1..12, customer = id % 3 + 1; customers 1 and 3 are DE, 2 is FR; amount = id * 10
    expected = {}
    for oid in range(1, 13):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=(oid - 1) // 4)
        country = "FR" if oid % 3 + 1 == 2 else "DE"
        orders, revenue_sum = expected.get((day, country), (0, 0.0))
        expected[(day, country)] = (orders + 1, revenue_sum + oid * 10)
    assert {(r["order_date"], r["country"]): (r["orders"], r["revenue"]) for r in revenue} == expected


def test_failed_product_skips_downstream_and_writes_nothing(tmp_path):
    root = mini_project(tmp_path / "p", **{"sql/stg_customers.sql": "SELECT customer_id, country, 1/0 AS x FROM raw_customers WHERE CAST(country AS INTEGER) > 0\n"})
    hw = Platform(root)
    result = hw.run()
    by = {s.product: s for s in result.steps}
    assert by["stg_customers"].status.value == "failed"
    assert "Conversion Error" in by["stg_customers"].error or "convert" in by["stg_customers"].error.lower()
    assert by["daily_revenue"].status.value == "skipped"
    assert "stg_customers failed" in by["daily_revenue"].error
    assert by["stg_orders"].status.value == "success"
    assert not hw.lakehouse.exists("stg_customers") and not hw.lakehouse.exists("daily_revenue")
    assert result.status == "failed"
    steps = {s.product: s for s in hw.ledger.steps(run_id=result.run_id)}
    assert steps["daily_revenue"].status == "skipped" and steps["stg_customers"].status == "failed"


def test_rerun_is_idempotent(mini):
    hw = Platform(mini)
    hw.run()
    first = _rows(hw, "SELECT * FROM daily_revenue ORDER BY ALL")
    counts = _rows(hw, "SELECT count(*) AS n FROM stg_orders")[0]["n"]
    hw.run()
    hw.run()
    assert _rows(hw, "SELECT * FROM daily_revenue ORDER BY ALL") == first
    assert _rows(hw, "SELECT count(*) AS n FROM stg_orders")[0]["n"] == counts == 12
    assert _rows(hw, "SELECT count(*) AS n FROM (SELECT DISTINCT * FROM stg_orders)")[0]["n"] == 12


def test_partition_run_overwrites_only_that_partition(mini):
    hw = Platform(mini)
    hw.run()
    # the source changes on every day, but only 2026-01-02 is re-run
    write_orders(mini, days=3, per_day=6)
    result = hw.run(["stg_orders"], partition="2026-01-02")
    assert result.ok
    per_day = {r["order_date"]: r["n"] for r in
               _rows(hw, "SELECT order_date, count(*) AS n FROM stg_orders GROUP BY 1")}
    assert per_day == {dt.date(2026, 1, 1): 4, dt.date(2026, 1, 2): 6, dt.date(2026, 1, 3): 4}
    # running the same partition again changes nothing
    hw.run(["stg_orders"], partition="2026-01-02")
    assert _rows(hw, "SELECT count(*) AS n FROM stg_orders")[0]["n"] == 14


def test_partition_that_becomes_empty_is_emptied(mini):
    hw = Platform(mini)
    hw.run()
    write_orders(mini, days=1, per_day=4)  # only 2026-01-01 remains in the source
    hw.run(["stg_orders"], partition="2026-01-03")
    days = {r["order_date"] for r in _rows(hw, "SELECT DISTINCT order_date FROM stg_orders")}
    assert days == {dt.date(2026, 1, 1), dt.date(2026, 1, 2)}


def test_full_refresh_replaces_the_table(mini):
    hw = Platform(mini)
    hw.run()
    write_orders(mini, days=1, per_day=4)
    hw.run(["stg_orders"])  # default: replaces the partitions present in the output, keeps others
    assert _rows(hw, "SELECT count(*) AS n FROM stg_orders")[0]["n"] == 12
    hw.run(["stg_orders"], full_refresh=True)
    assert _rows(hw, "SELECT count(*) AS n FROM stg_orders")[0]["n"] == 4


def test_incompatible_schema_change_needs_full_refresh(mini):
    hw = Platform(mini)
    hw.run()
    (mini / "sql/stg_customers.sql").write_text("SELECT customer_id, length(country) AS country FROM raw_customers\n")
    hw = Platform(mini)
    step = hw.run(["stg_customers"]).steps[0]
    assert step.status.value == "failed" and "changes type" in step.error and "--full-refresh" in step.fix
    step = hw.run(["stg_customers"], full_refresh=True).steps[0]
    assert step.status.value == "success"
    assert _rows(hw, "SELECT max(country) AS c FROM stg_customers")[0]["c"] == 2


def test_new_column_evolves_the_schema(mini):
    hw = Platform(mini)
    hw.run()
    (mini / "sql/stg_customers.sql").write_text("SELECT customer_id, country, upper(country) AS cc FROM raw_customers\n")
    hw = Platform(mini)
    assert hw.run(["stg_customers"]).ok
    assert _rows(hw, "SELECT cc FROM stg_customers ORDER BY customer_id LIMIT 1")[0]["cc"] == "DE"


def test_time_travel_by_snapshot_and_timestamp(mini):
    hw = Platform(mini)
    hw.run(["stg_orders"])
    first = hw.lakehouse.current("stg_orders")
    time.sleep(0.02)  # snapshot timestamps have millisecond resolution
    between = dt.datetime.now(dt.timezone.utc)
    time.sleep(0.02)
    write_orders(mini, days=4, per_day=4)
    hw.run(["stg_orders"])
    assert _rows(hw, "SELECT count(*) AS n FROM stg_orders")[0]["n"] == 16
    assert hw.query("SELECT count(*) AS n FROM stg_orders", as_of=str(first.snapshot_id)).to_pylist()[0]["n"] == 12
    assert hw.query("SELECT count(*) AS n FROM stg_orders", as_of=between.isoformat()).to_pylist()[0]["n"] == 12
    with pytest.raises(NotFoundError):
        hw.query("SELECT 1 FROM stg_orders", as_of="2000-01-01T00:00:00+00:00")
    with pytest.raises(NotFoundError):
        hw.query("SELECT 1 FROM stg_orders", as_of="42")


def test_a_snapshot_id_reads_its_table_at_it_and_the_others_as_of_its_commit(mini):
    hw = Platform(mini)
    hw.run(["stg_customers"])  # committed before the orders snapshot below: it existed then
    hw.run(["stg_orders"])
    first = hw.lakehouse.current("stg_orders")
    customers_then = hw.lakehouse.current("stg_customers")
    time.sleep(0.02)  # snapshot timestamps have millisecond resolution
    write_orders(mini, days=4, per_day=4)
    hw.run(["stg_orders", "stg_customers"])  # both tables move on
    assert hw.lakehouse.current("stg_customers").snapshot_id != customers_then.snapshot_id
    join = "SELECT count(*) AS n, count(DISTINCT c.customer_id) AS c FROM stg_orders o, stg_customers c"
    now = hw.query(join).to_pylist()[0]
    then = hw.query(join, as_of=str(first.snapshot_id)).to_pylist()[0]
    customers = hw.query("SELECT count(*) AS n FROM stg_customers",
                         as_of=str(customers_then.snapshot_id)).to_pylist()[0]["n"]
    assert then == {"n": 12 * customers, "c": customers} and now["n"] == 16 * now["c"]
    with pytest.raises(NotFoundError, match="no table in the query"):
        hw.query(join, as_of="42")


def test_time_travel_never_shows_the_middle_of_an_overwrite(mini):
    """An overwrite commits a delete and an append together: no reader ever saw the empty middle."""
    hw = Platform(mini)
    hw.run(["stg_orders"])
    hw.run(["stg_orders"])
    table = hw.lakehouse.load("stg_orders")
    for entry in table.history():
        n = hw.query("SELECT count(*) AS n FROM stg_orders",
                     as_of=dt.datetime.fromtimestamp(entry.timestamp_ms / 1000, dt.timezone.utc).isoformat())
        assert n.to_pylist()[0]["n"] == 12


def test_status_reports_rows_data_time_and_snapshot(mini):
    hw = Platform(mini)
    hw.run()
    status = {s.product: s for s in hw.status()}
    assert status["stg_orders"].rows == 12
    assert status["stg_orders"].data_time == dt.datetime(2026, 1, 4, tzinfo=dt.timezone.utc)
    assert status["daily_revenue"].snapshot_id == hw.lakehouse.current("daily_revenue").snapshot_id
    assert status["daily_revenue"].last_status == "success"


def test_query_unknown_table_names_the_products(mini):
    hw = Platform(mini)
    with pytest.raises(NotFoundError) as info:
        hw.query("SELECT * FROM revenue")
    assert "daily_revenue" in info.value.fix


def test_requests_that_cannot_succeed_are_refused_before_a_run_is_recorded(mini):
    from headwater.errors import HeadwaterError

    hw = Platform(mini)
    hw.run()
    runs = len(hw.ledger.runs(limit=100))
    for products, partition, why in [(["stg_customers"], "2026-01-01", "not partitioned"),
                                     (["stg_orders"], "2026-13-01", "not a date"),
                                     (None, "yesterday", "not a date")]:
        with pytest.raises(HeadwaterError, match=why):
            hw.run(products, partition=partition)
    assert len(hw.ledger.runs(limit=100)) == runs  # no failed run, no burnt error budget


def test_upstream_flag_runs_inputs_first(mini):
    hw = Platform(mini)
    result = hw.run(["daily_revenue"], upstream=True)
    assert [s.product for s in result.steps] == ["stg_customers", "stg_orders", "daily_revenue"]
    assert result.ok


def test_missing_upstream_table_fails_with_fix(mini):
    step = Platform(mini).run(["daily_revenue"]).steps[0]
    assert step.status.value == "failed" and "has no table yet" in step.error and "--upstream" in step.fix


def test_python_transform(tmp_path):
    root = mini_project(tmp_path / "p", **{
        "products/py.yaml": """
            products:
              - name: big_orders
                domain: sales
                owner: {team: t, oncall: o}
                tier: ops
                inputs: [stg_orders]
                transform: {python: transforms/big.py:build}
            """,
        "transforms/big.py": "def build(con):\n    return con.sql('SELECT * FROM stg_orders WHERE amount > 50')\n",
    })
    hw = Platform(root)
    assert hw.run(["big_orders"], upstream=True).ok
    assert _rows(hw, "SELECT count(*) AS n FROM big_orders")[0]["n"] == 7
