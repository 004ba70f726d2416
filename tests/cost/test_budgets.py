"""Budgets, forecasts and their alerts in simulated time.

The cost model here prices only the control plane (30 a month, split by the documented rule), so
every amount follows from the clock: with equal runs each of the three products costs exactly a
third of a unit a day from its first step on (nothing before it existed). Expectations are derived
from that rule, not copied from a run.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from headwater.cost.budgets import fit_line, month_bounds, project_rest
from headwater.observe.sinks.memory import MemorySink
from tests.cost.conftest import build
from tests.projects import MINI_FILES

ONLY_CONTROL_PLANE = """
name: mini
cost:
  rates: {cpu_hour: 0, memory_gb_hour: 0, egress_gb: 0, scan_gb: 0, per_run: 0,
          control_plane_per_month: 30}
  storage_classes: {hot: 0, warm: 0, cold: 0}
  budgets:
    domains: {sales: 20, finance: 50}
"""
PRODUCT_BUDGET = MINI_FILES["products/sales.yaml"].replace(
    "            transform: {sql: sql/daily_revenue.sql}\n",
    "            transform: {sql: sql/daily_revenue.sql}\n            cost: {budget_per_month: 5}\n")
DAILY = {"sales": 2 / 3, "finance": 1 / 3, "daily_revenue": 1 / 3}  # per day, from the split rule
BUDGET = {"sales": 20, "finance": 50, "daily_revenue": 5}


def test_the_line_fit_and_projection():
    assert fit_line([1, 2, 3]) == pytest.approx((1, 1))
    assert project_rest([1, 2, 3], 2) == pytest.approx(4 + 5)
    assert project_rest([1, 2, 3], 1.5) == pytest.approx(4 + 0.5 * 5)
    assert project_rest([3, 2, 1], 3) == 0  # a falling trend never forecasts negative cost
    assert project_rest([2.0], 10) == pytest.approx(20)


@pytest.fixture
def budgeted(tmp_path):
    assert "budget_per_month: 5" in PRODUCT_BUDGET
    return build(tmp_path / "mini", runs=1, **{"headwater.yaml": ONLY_CONTROL_PLANE,
                                               "products/sales.yaml": PRODUCT_BUDGET})


def _born(platform):
    """The project's first step: the products exist from then on (all queued by the same run)."""
    return min(s.queued_at for s in platform.ledger.steps())


def test_actual_and_forecast_follow_the_cost_model(budgeted):
    clock = budgeted.clock
    clock.advance(timedelta(days=3, hours=5))
    report = budgeted.cost.budgets(send=False)
    start, end = month_bounds(clock.now())
    born = _born(budgeted)
    assert born > start  # the month began before the project: those hours are nobody's
    existed, to_month_end = (clock.now() - born) / timedelta(days=1), (end - born) / timedelta(days=1)
    statuses = {s.name: s for s in report.statuses}
    assert set(statuses) == set(BUDGET)
    for name, per_day in DAILY.items():
        assert statuses[name].actual == pytest.approx(per_day * existed)
        assert statuses[name].forecast == pytest.approx(per_day * to_month_end)
        assert statuses[name].daily_trend == pytest.approx(0, abs=1e-9)
        assert statuses[name].budget == BUDGET[name]


def test_alerts_fire_once_at_80_and_100_percent_forecast_then_actual(budgeted):
    clock = budgeted.clock
    sink = MemorySink()
    start, end = month_bounds(clock.now())
    fired: dict[tuple, object] = {}
    when = clock.now().replace(hour=12, minute=0)
    while when < end:
        clock.set(when)
        for alert in budgeted.cost.budgets(sinks=[sink]).alerts:
            key = (alert.name, alert.kind, alert.threshold)
            assert key not in fired, f"{key} alerted twice"
            fired[key] = clock.now()
        when += timedelta(days=1)

    assert len(sink.sent) == len(fired)
    assert {a.source for a in sink.sent} == {"cost"}
    month_days, born = (end - start).days, _born(budgeted)
    evaluations = [start.replace(hour=12) + timedelta(days=d) for d in range(month_days)]
    expected = {}
    for name, per_day in DAILY.items():
        for threshold in (0.8, 1.0):
            limit = threshold * BUDGET[name]
            if per_day * (end - born).total_seconds() / 86400 >= limit:
                expected[(name, "forecast", threshold)] = evaluations[0]
            first = next((t for t in evaluations if per_day * (t - born).total_seconds() / 86400 >= limit),
                         None)
            if first is not None:
                expected[(name, "actual", threshold)] = first
    assert fired == expected
    assert ("sales", "actual", 1.0) in fired and ("finance", "forecast", 0.8) not in fired
    severities = {(a.labels["name"], a.labels["kind"], a.values["threshold"]): a.severity for a in sink.sent}
    assert severities[("sales", "actual", 1.0)] == "ticket"
    assert severities[("sales", "forecast", 0.8)] == "info"


def test_a_rising_trend_raises_the_forecast(tmp_path):
    """Every product runs once a day and one of them once more each day: the run-share of the
    control plane shifts to it, its daily cost rises, and its forecast exceeds a flat extrapolation
    of its month to date. (Its own runs alone would not: with nobody else running, all of the
    run-share is its share whatever the count.)"""
    platform = build(tmp_path / "mini", runs=1, **{"headwater.yaml": ONLY_CONTROL_PLANE,
                                                   "products/sales.yaml": PRODUCT_BUDGET})
    for day in range(1, 6):
        platform.clock.set(platform.clock.now().replace(hour=6) + timedelta(days=1))
        assert platform.run().status == "success"
        for _ in range(day):
            platform.clock.advance(timedelta(minutes=10))
            assert platform.run(["daily_revenue"]).status == "success"
    status = next(s for s in platform.cost.budgets(send=False).statuses if s.name == "daily_revenue")
    end = month_bounds(platform.clock.now())[1]
    born = _born(platform)
    flat = status.actual / ((platform.clock.now() - born) / (end - born))  # the same rate all month
    assert status.daily_trend > 0
    assert status.forecast > flat


def test_alerts_go_to_the_default_sink(budgeted):
    budgeted.clock.advance(timedelta(days=1))
    report = budgeted.cost.budgets()
    assert report.alerts and not report.delivery_errors
    lines = [json.loads(line) for line in (budgeted.state_dir / "alerts.jsonl").read_text().splitlines()]
    assert {line["key"] for line in lines} >= {f"cost:budget:domain:sales:{report.month}:forecast:0.8"}
    assert budgeted.cost.budgets().alerts == []  # remembered: sent once
