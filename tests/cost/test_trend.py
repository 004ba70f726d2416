"""Cost over time: each bucket is the showback of its window, and growth ranks what grew."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.cost.conftest import build

DAY = timedelta(days=1)


@pytest.fixture
def growing(tmp_path):
    """daily_revenue runs once more every day; the staging tables never run again."""
    platform = build(tmp_path / "mini", runs=1)
    for day in range(1, 5):
        platform.clock.set(platform.clock.now().replace(hour=1) + DAY)
        for _ in range(day):
            platform.clock.advance(timedelta(minutes=30))
            assert platform.run(["daily_revenue"]).status == "success"
    platform.clock.set(platform.clock.now().replace(hour=23))
    return platform


def test_each_bucket_is_the_showback_of_its_window(growing):
    usage = growing.cost.usage()
    trend = growing.cost.trend("product", 4 * DAY, DAY, usage=usage)
    assert len(trend.buckets) == 4
    for i, start in enumerate(trend.buckets):
        window = growing.cost.showback("product", DAY, usage=usage, end=start + DAY)
        by = {line.key: line.total_cost for line in window.lines}
        for key, values in trend.series.items():
            assert values[i] == pytest.approx(by[key], rel=1e-12)
        assert math.fsum(v[i] for v in trend.series.values()) == pytest.approx(window.total)


def test_growth_ranks_what_grew_first(growing):
    trend = growing.cost.trend("product", 4 * DAY, DAY)
    top = trend.growth[0]
    assert top["key"] == "daily_revenue" and top["growth"] > 0
    assert top["after"] > top["before"]
    series = trend.series["daily_revenue"]
    assert series == sorted(series)  # one more run each day: never cheaper than the day before
    staging = {g["key"]: g for g in trend.growth if g["key"] != "daily_revenue"}
    # not run in the period: the same storage and the same even share of the control plane each day
    assert set(staging) == {"stg_orders", "stg_customers"}
    assert all(g["growth"] == pytest.approx(0, abs=1e-9) for g in staging.values())


def test_trend_by_domain_sums_the_products(growing):
    usage = growing.cost.usage()
    products = growing.cost.trend("product", 4 * DAY, DAY, usage=usage)
    domains = growing.cost.trend("domain", 4 * DAY, DAY, usage=usage)
    for i in range(4):
        assert math.fsum(v[i] for v in domains.series.values()) == pytest.approx(
            math.fsum(v[i] for v in products.series.values()))
    assert domains.series["finance"] == pytest.approx(products.series["daily_revenue"])
