"""Every SLI on real runs of the mini project under a simulated clock."""

import datetime as dt
from datetime import timedelta

import pytest

from headwater.ledger.store import StepMetrics
from tests.observe.conftest import T0
from tests.observe.helpers import daily, write_days
from tests.projects import MINI_FILES, mini_project

D0 = dt.date(2026, 1, 4)  # the day before T0


def test_freshness_is_now_minus_data_time_and_breaches_past_the_objective(sim):
    hw, clock = sim
    write_days(hw.root, {D0: 4}, landed=T0)
    assert hw.run(["stg_orders"]).ok
    fresh = hw.observe.slo("stg_orders").slis["freshness"]
    # data complete up to the end of D0 (midnight); one hour later is exactly the ops objective
    assert fresh.detail["data_time"] == "2026-01-05T00:00:00+00:00"
    assert (fresh.value, fresh.status.value) == (3600.0, "ok")
    clock.advance(timedelta(minutes=10))
    late = hw.observe.slo("stg_orders").slis["freshness"]
    assert (late.value, late.status.value) == (4200.0, "breached")
    assert late.bad_since == T0  # data_time + 60m
    assert (late.budget.bad, late.budget.total) == (600.0, 600.0)
    # the next day's data arrives: fresh again, and the past is still the past
    clock.set(T0 + timedelta(days=1))
    write_days(hw.root, {D0: 4, D0 + timedelta(days=1): 4}, landed=clock.now())
    assert hw.run(["stg_orders"], partition="2026-01-05").ok
    assert hw.observe.slo("stg_orders").slis["freshness"].value == 3600.0
    again = hw.observe.slo("stg_orders", at=T0 + timedelta(minutes=10)).slis["freshness"]
    assert (again.value, again.status.value) == (4200.0, "breached")
    day = hw.observe.slo("stg_orders").slis["freshness"].budget
    assert day.bad == day.total == timedelta(hours=24).total_seconds()  # stale from Mon 01:00 to Tue 01:00


def test_zero_rows_is_a_completeness_violation(sim):
    hw, clock = sim
    daily(hw, clock, D0 - timedelta(days=2), 3)  # three good days of 4 orders
    ok = hw.observe.slo("stg_orders").slis["completeness"]
    assert (ok.value, ok.status.value) == (1.0, "ok")
    clock.advance(timedelta(days=1))
    result = hw.run(["stg_orders"], partition=(D0 + timedelta(days=1)).isoformat())  # nothing landed
    assert result.ok and result.steps[0].rows_written == 0
    empty = hw.observe.slo("stg_orders").slis["completeness"]
    assert (empty.value, empty.status.value) == (0.0, "breached")
    assert empty.detail["zero_rows"] is True
    assert empty.detail["rows_expected"] == 4  # the median of earlier runs
    assert empty.bad_since == clock.now()


def test_completeness_and_validity_reconcile_with_the_gate(sim):
    hw, _ = sim
    ledger = hw.ledger
    run = ledger.start_run("mini", "test")
    step = ledger.queue_step(run, "stg_orders", "batch", None, "test")
    ledger.start_step(step)
    ledger.finish_step(step, "success", StepMetrics(
        rows_written=95, data_time=T0, details={"gate": {"passed": 95, "quarantined": 5, "filtered": 3}}))
    slo = hw.observe.slo("stg_orders")
    comp, valid = slo.slis["completeness"], slo.slis["validity"]
    assert comp.value == pytest.approx(0.95) and comp.status.value == "breached"
    assert comp.detail["rows_expected"] == 100 and "reconciliation" in comp.detail["expected_from"]
    assert valid.value == pytest.approx(0.95) and valid.status.value == "breached"
    assert (valid.budget.bad, valid.budget.total) == (5.0, 100.0)
    assert hw.observe.slo("stg_customers").slis["validity"].status.value == "no_data"


def test_declared_expectation_sets_the_expected_rows(tmp_path):
    from headwater.clock import FrozenClock
    from headwater.platform import Platform

    text = MINI_FILES["products/sales.yaml"]
    indent = text[:text.index("primary_key: [order_id]")].rsplit("\n", 1)[1]
    root = mini_project(tmp_path / "p", **{"products/sales.yaml": text.replace(
        "primary_key: [order_id]", "primary_key: [order_id]\n" + indent + "slo: {expected_rows_min: 10}")})
    clock = FrozenClock(T0)
    hw = Platform(root, clock=clock)
    write_days(root, {D0: 4}, landed=T0)
    assert hw.run(["stg_orders"], partition=D0.isoformat()).ok
    comp = hw.observe.slo("stg_orders").slis["completeness"]
    assert comp.value == pytest.approx(0.4) and comp.detail["expected_from"] == "slo.expected_rows_min"


def test_availability_counts_scheduled_runs_on_time(tmp_path):
    from headwater.clock import FrozenClock
    from headwater.platform import Platform

    text = MINI_FILES["products/sales.yaml"]
    indent = text[:text.index("transform: {sql: sql/stg_customers.sql}")].rsplit("\n", 1)[1]
    root = mini_project(tmp_path / "p", **{"products/sales.yaml": text.replace(
        "transform: {sql: sql/stg_customers.sql}",
        "transform: {sql: sql/stg_customers.sql}\n" + indent + 'schedule: "0 1 * * *"')})
    clock = FrozenClock(T0)
    hw = Platform(root, clock=clock)
    assert hw.run(["stg_customers"]).ok                       # Mon 01:00, on time
    clock.set(T0 + timedelta(days=1, minutes=10))
    assert hw.run(["stg_customers"]).ok                       # Tue 01:10, within 60m
    clock.set(T0 + timedelta(days=2, hours=3))
    assert hw.run(["stg_customers"]).ok                       # Wed 04:00, late
    clock.set(T0 + timedelta(days=3, minutes=30))             # Thu 01:30: Thursday's tick not yet due
    avail = hw.observe.slo("stg_customers").slis["availability"]
    assert avail.value == pytest.approx(2 / 3) and avail.detail["runs"] == 3
    assert avail.detail["missed"] == ["2026-01-07T01:00:00+00:00"]
    assert avail.status.value == "breached"


def test_availability_without_schedule_counts_failed_runs(sim, tmp_path):
    hw, clock = sim
    assert hw.run(["stg_customers"]).ok
    (hw.root / "sql/stg_customers.sql").write_text("SELECT no_such_column FROM raw_customers\n")
    hw.__dict__.pop("project", None)  # re-read the changed SQL
    clock.advance(timedelta(hours=1))
    assert not hw.run(["stg_customers"]).ok
    avail = hw.observe.slo("stg_customers").slis["availability"]
    assert avail.value == 0.5 and avail.bad_since == clock.now()


def test_latency_per_hop_from_input_commit_to_output_commit(sim):
    hw, clock = sim
    assert hw.run(["stg_orders", "stg_customers"]).ok
    clock.advance(timedelta(minutes=20))
    assert hw.run(["daily_revenue"]).ok
    lat = hw.observe.slo("daily_revenue").slis["latency"]
    assert lat.detail["hops"]["stg_orders"]["last"] == 1200.0
    assert lat.detail["hops"]["stg_customers"]["last"] == 1200.0
    assert lat.value == 1200.0 and lat.status.value == "ok"  # finance allows 24h
    assert hw.observe.slo("stg_orders").slis["latency"].status.value == "no_data"  # reads sources only


def test_volume_against_the_learned_baseline(sim):
    hw, clock = sim
    daily(hw, clock, dt.date(2026, 1, 1), 8, per_day=lambda d: 40 + d.day % 3)
    normal = hw.observe.slo("stg_orders").slis["volume"]
    assert normal.status.value == "ok" and normal.detail["rows"]["training_points"] == 7
    daily(hw, clock, dt.date(2026, 1, 9), 1, per_day=lambda d: 5)
    drop = hw.observe.slo("stg_orders").slis["volume"]
    assert drop.status.value == "anomalous" and drop.value == 5
    assert drop.detail["rows"]["direction"] == "low" and drop.detail["rows"]["expected"] == 41


def test_composite_availability_along_lineage(sim):
    hw, clock = sim
    assert hw.run().ok
    clock.advance(timedelta(hours=1))
    paths = {p["path"][0]: p for p in hw.observe.composite_availability("daily_revenue")["paths"]}
    orders = paths["stg_orders"]
    assert sorted(p["path"] for p in paths.values()) == [["stg_customers", "daily_revenue"],
                                                          ["stg_orders", "daily_revenue"]]
    assert orders["objective"] == pytest.approx(0.999 * 0.995)
    assert orders["measured"] == 1.0


def test_arrival_and_duration_anomalies(sim):
    hw, clock = sim
    daily(hw, clock, dt.date(2026, 1, 1), 6)                       # every day at 01:00
    daily(hw, clock, dt.date(2026, 1, 7), 1, hour=7)               # six hours late
    scores = {s.metric: s for s in hw.observe.anomalies("stg_orders")}
    assert scores["arrival"].anomalous and scores["arrival"].value == 7 * 3600
    assert scores["arrival"].expected == 3600 and scores["arrival"].direction == "high"
    assert not scores["rows"].anomalous
    assert scores["duration"].value == 0 and not scores["duration"].anomalous  # a frozen clock: no time passes
    last = scores["arrival"].ref
    hw.observe.mark_outlier(last, "planned maintenance")
    assert last in hw.observe.outliers()


def test_validity_and_completeness_from_the_real_contract_gate(tmp_path):
    """The contracts package's shop: planted bad rows are quarantined by the real gate."""
    from headwater.clock import FrozenClock
    from headwater.platform import Platform
    from tests.contracts.helpers import shop

    hw = Platform(shop(tmp_path / "shop"), clock=FrozenClock(T0))
    assert hw.run().ok
    step = hw.ledger.latest("stg_orders", status="success")
    contract = step.details["contract"]
    slo = hw.observe.slo("stg_orders")
    valid, comp = slo.slis["validity"], slo.slis["completeness"]
    assert (valid.detail["passed"], valid.detail["quarantined"]) == (contract["passed"], contract["quarantined"])
    assert contract["quarantined"] > 0
    assert valid.value == pytest.approx(contract["passed"] / (contract["passed"] + contract["quarantined"]))
    assert valid.status.value == "breached"
    written = step.details["conservation"]["written"]
    assert comp.detail["rows_expected"] == written + contract["quarantined"]
    assert comp.value == pytest.approx(written / (written + contract["quarantined"]))


def _interval(hw, lane: str, read: int, written: int, at, quarantined: int = 0, filtered: int = 0) -> None:
    """One ledger step as a streaming or CDC lane records an interval of micro-batches."""
    ledger = hw.ledger
    run = ledger.start_run("mini", "test")
    step = ledger.queue_step(run, "stg_orders", lane, None, "test")
    ledger.start_step(step)
    ledger.finish_step(step, "success", StepMetrics(
        rows_read=read, rows_written=written, data_time=at,
        details={"gate": {"passed": written, "quarantined": quarantined, "filtered": filtered}}))


@pytest.mark.parametrize("lane", ["streaming", "cdc"])
def test_an_idle_stream_interval_is_no_completeness_event(sim, lane):
    hw, clock = sim
    for _ in range(3):
        _interval(hw, lane, 100, 100, clock.now())
        clock.advance(timedelta(minutes=1))
    _interval(hw, lane, 0, 0, clock.now())  # the source sent nothing this minute
    clock.advance(timedelta(minutes=1))
    _interval(hw, lane, 40, 0, clock.now(), filtered=40)  # only duplicates / changes re-delivered
    comp = hw.observe.slo("stg_orders").slis["completeness"]
    assert (comp.value, comp.status.value) == (1.0, "ok")
    assert comp.detail["idle_runs"] == 2 and comp.detail["rows_delivered"] == 100
    assert (comp.budget.bad, comp.budget.total) == (0.0, 3.0)  # three events, the idle minutes are none

    clock.advance(timedelta(minutes=1))
    _interval(hw, lane, 50, 0, clock.now(), quarantined=50)  # rows arrived and none was delivered
    lost = hw.observe.slo("stg_orders").slis["completeness"]
    assert (lost.value, lost.status.value) == (0.0, "breached")
    assert lost.detail["zero_rows"] is True and lost.detail["rows_expected"] == 100  # the usual volume


def test_a_stream_that_only_idled_has_no_completeness_yet(sim):
    hw, clock = sim
    _interval(hw, "streaming", 0, 0, clock.now())
    comp = hw.observe.slo("stg_orders").slis["completeness"]
    assert comp.status.value == "no_data" and comp.detail["idle_runs"] == 1
    assert "idle" in comp.detail["reason"]
