"""Shared (control-plane) cost is charged only from the moment a product existed.

A product exists from its first step in the ledger; time before any declared product existed is
reported as unattributed, and lines plus unattributed always add up to the window's pool. The
cost model here prices only the control plane (30 a month: 1 a day), so every amount follows from
the clock and the documented split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from headwater.clock import FrozenClock
from headwater.cost.budgets import month_bounds
from headwater.cost.shared import split_shared
from headwater.platform import Platform
from tests.cost.conftest import build
from tests.cost.test_budgets import ONLY_CONTROL_PLANE, PRODUCT_BUDGET
from tests.projects import leaf_product, mini_project, write_files

DAY = timedelta(days=1)
T0 = datetime(2026, 3, 10, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Step:
    product: str
    queued_at: datetime


def test_split_cuts_the_window_where_products_appear():
    """Before a: nobody. From a: a alone. From b: a and b, b ran once (queued at its first instant)."""
    first_seen = {"a": T0, "b": T0 + 2 * DAY}
    steps = [Step("a", T0), Step("b", T0 + 2 * DAY)]
    split = split_shared(["a", "b"], first_seen, steps, T0 - DAY, T0 + 4 * DAY, per_month=30)
    assert split.pool == pytest.approx(5)
    assert split.unattributed == pytest.approx(1)
    assert split.by_product["a"] == pytest.approx(2 + 1 / 2)  # all of [T0, T0+2d), half the even half
    assert split.by_product["b"] == pytest.approx(1 / 2 + 1)  # half the even half, all the run half
    assert math.fsum(split.by_product.values()) + split.unattributed == pytest.approx(split.pool)


def test_split_of_a_window_no_product_existed_in_is_all_unattributed():
    split = split_shared(["a", "b"], {}, [], T0, T0 + DAY, per_month=30)
    assert split.by_product == {"a": 0, "b": 0} and split.unattributed == pytest.approx(1) == split.pool
    later = split_shared(["a"], {"a": T0 + DAY}, [Step("a", T0 + DAY)], T0, T0 + DAY, per_month=30)
    assert later.by_product == {"a": 0} and later.unattributed == pytest.approx(1)


def test_split_of_products_that_all_existed_is_the_plain_rule():
    first_seen = {"a": T0 - DAY, "b": T0 - DAY, "c": T0 - DAY}
    steps = [Step("a", T0 + DAY), Step("a", T0 + 2 * DAY), Step("b", T0 + 3 * DAY)]
    split = split_shared("abc", first_seen, steps, T0, T0 + 30 * DAY, per_month=30)
    assert split.unattributed == 0
    for name, runs in (("a", 2), ("b", 1), ("c", 0)):
        assert split.by_product[name] == pytest.approx(30 / 2 / 3 + 30 / 2 * runs / 3)


def test_a_new_projects_budget_counts_only_the_days_since_it_existed(tmp_path):
    """The reported defect: created on the 20th, checked a day later, the budget was charged the
    control plane from the 1st (20 days, daily_revenue 'over' its budget of 5 after one day)."""
    root = mini_project(tmp_path / "mini", **{"headwater.yaml": ONLY_CONTROL_PLANE,
                                              "products/sales.yaml": PRODUCT_BUDGET})
    clock = FrozenClock(datetime(2026, 3, 20, tzinfo=timezone.utc))
    platform = Platform(root, clock=clock)
    assert platform.run().status == "success"
    clock.advance(DAY)
    statuses = {s.name: s for s in platform.cost.budgets(send=False).statuses}
    days_left = (month_bounds(clock.now())[1] - clock.now()) / DAY
    for name, per_day in {"sales": 2 / 3, "finance": 1 / 3, "daily_revenue": 1 / 3}.items():
        assert statuses[name].actual == pytest.approx(per_day)  # one day, not twenty-one
        assert statuses[name].forecast == pytest.approx(per_day * (1 + days_left))
    assert statuses["daily_revenue"].status == "warning"  # forecast 4 >= 80% of 5; not yet spent
    showback = platform.cost.showback("product", 30 * DAY)
    assert showback.total == pytest.approx(1) and showback.unattributed == pytest.approx(29)


EXTRA = leaf_product("big_orders", "SELECT order_id, amount FROM stg_orders WHERE amount > 50\n",
                     "cost: {budget_per_month: 5}")


def test_a_product_added_later_pays_shared_cost_only_from_its_first_step(tmp_path):
    """Three products from day 0 (one run each), a fourth declared on day 10 and run once; priced
    on day 20 over 30 days: 10 days nobody's, 10 days split by three, 10 days by four."""
    first = build(tmp_path / "mini", runs=1, **{"headwater.yaml": ONLY_CONTROL_PLANE})
    born = min(s.queued_at for s in first.ledger.steps())
    clock = first.clock
    clock.set(born + 10 * DAY)
    write_files(first.root, EXTRA)
    platform = Platform(first.root, clock=clock)

    declared = {line.key: line for line in platform.cost.showback("product", 30 * DAY).lines}
    assert declared["big_orders"].shared_cost == 0  # declared, never run: not yet there

    assert platform.run(["big_orders"]).status == "success"
    clock.set(born + 20 * DAY)
    report = platform.cost.showback("product", 30 * DAY)
    shared = {line.key: line.shared_cost for line in report.lines}
    assert report.unattributed == pytest.approx(10)
    assert shared["big_orders"] == pytest.approx(10 / 2 / 4 + 10 / 2)  # its one run: all the run half
    for name in ("stg_orders", "stg_customers", "daily_revenue"):
        assert shared[name] == pytest.approx(10 / 3 + 10 / 2 / 4)
    assert math.fsum(shared.values()) + report.unattributed == pytest.approx(30)
    assert report.total == pytest.approx(math.fsum(line.total_cost for line in report.lines))

    budget = next(s for s in platform.cost.budgets(send=False).statuses if s.name == "big_orders")
    assert budget.actual == pytest.approx(shared["big_orders"])  # March began before all of it


def test_a_product_exists_from_its_first_step_in_the_whole_ledger(tmp_path):
    """Usage read from a later point (budgets read this month) still knows when products began."""
    platform = build(tmp_path / "mini", runs=1, **{"headwater.yaml": ONLY_CONTROL_PLANE})
    born = min(s.queued_at for s in platform.ledger.steps())
    platform.clock.set(datetime(2026, 4, 3, tzinfo=timezone.utc))
    usage = platform.cost.usage(since=datetime(2026, 4, 1, tzinfo=timezone.utc))
    assert not usage.steps and usage.first_seen == dict.fromkeys(platform.project.products, born)
    statuses = {s.name: s for s in platform.cost.budgets(send=False).statuses}
    assert statuses["sales"].actual == pytest.approx(2 / 3 * 2)  # all of April so far
    assert statuses["sales"].daily_trend == pytest.approx(0, abs=1e-9)


def test_the_forecast_of_a_product_younger_than_a_day_is_its_daily_rate(budgeted_young):
    platform, born = budgeted_young
    platform.clock.set(born + timedelta(hours=6))
    end = month_bounds(platform.clock.now())[1]
    statuses = {s.name: s for s in platform.cost.budgets(send=False).statuses}
    assert statuses["daily_revenue"].actual == pytest.approx(1 / 3 / 4)
    assert statuses["daily_revenue"].forecast == pytest.approx(1 / 3 * ((end - born) / DAY))


def test_the_forecast_leaves_out_the_part_of_a_day_before_the_first_step(budgeted_young):
    """Two days and a quarter old: the fit is over two whole days, flat (not a partial first day
    that would read as a rising trend)."""
    platform, born = budgeted_young
    platform.clock.set(born + timedelta(days=2, hours=6))
    end = month_bounds(platform.clock.now())[1]
    status = next(s for s in platform.cost.budgets(send=False).statuses if s.name == "daily_revenue")
    assert status.daily_trend == pytest.approx(0, abs=1e-9)
    assert status.forecast == pytest.approx(1 / 3 * ((end - born) / DAY))


def test_trend_buckets_before_the_project_are_unattributed(budgeted_young):
    platform, born = budgeted_young
    platform.clock.set(born + 2 * DAY)
    trend = platform.cost.trend("product", 4 * DAY, DAY)
    assert trend.unattributed == pytest.approx([1, 1, 0, 0])
    for i in range(4):
        assert math.fsum(v[i] for v in trend.series.values()) + trend.unattributed[i] == pytest.approx(1)
    assert trend.to_dict()["unattributed"] == trend.unattributed


@pytest.fixture
def budgeted_young(tmp_path):
    platform = build(tmp_path / "mini", runs=1, **{"headwater.yaml": ONLY_CONTROL_PLANE,
                                                   "products/sales.yaml": PRODUCT_BUDGET})
    return platform, min(s.queued_at for s in platform.ledger.steps())
