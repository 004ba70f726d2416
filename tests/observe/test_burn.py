"""Burn rates and the multi-window rules at their thresholds (Google SRE workbook, table 5-8)."""

from datetime import datetime, timedelta, timezone

import pytest

from headwater.observe.burn import (
    RULES,
    EventSeries,
    IntervalSeries,
    budget,
    burn_rate,
    burn_rates,
    firing,
)

AT = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
TARGET = 0.999  # budget 0.1%
H = timedelta(hours=1)


def bad_for(seconds: float, *, since=AT - timedelta(days=40)) -> IntervalSeries:
    """Fresh data until ``seconds`` before AT, stale from then on."""
    return IntervalSeries(since, [(AT - timedelta(seconds=seconds), AT)])


def test_rules_are_the_workbook_ones():
    assert [(r.severity, r.long, r.short, r.factor) for r in RULES] == [
        ("page", H, timedelta(minutes=5), 14.4),
        ("page", 6 * H, timedelta(minutes=30), 6.0),
        ("ticket", timedelta(days=3), 6 * H, 1.0)]


def test_burn_rate_is_error_ratio_over_budget():
    # 36 bad seconds in the last hour: 1% errors = 10x a 0.1% budget
    assert burn_rate(bad_for(36), TARGET, AT, H) == pytest.approx(10.0)
    assert burn_rate(bad_for(36), TARGET, AT, timedelta(minutes=5)) == pytest.approx(120.0)
    assert burn_rate(IntervalSeries(None, []), TARGET, AT, H) is None  # no events yet


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_rule_fires_just_above_its_factor_and_not_at_it(rule):
    # stale for exactly factor x budget of the long window: long burns at the factor, short far above
    at_threshold = rule.factor * (1 - TARGET) * rule.long.total_seconds()
    rates = burn_rates(bad_for(at_threshold), TARGET, AT)
    assert rates[rule.long] == pytest.approx(rule.factor)
    assert rates[rule.short] > rule.factor
    rates[rule.long] = rule.factor  # exactly at the threshold (no float noise): does not fire
    assert rule not in firing(rates)
    above = burn_rates(bad_for(at_threshold * 1.01), TARGET, AT)
    assert rule in firing(above)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_both_windows_must_exceed(rule):
    # long window over the factor, short window clean: the problem has stopped, no alert
    over = rule.factor * (1 - TARGET) * rule.long.total_seconds() * 2
    end = AT - rule.short - timedelta(seconds=1)
    series = IntervalSeries(AT - timedelta(days=40), [(end - timedelta(seconds=over), end)])
    rates = burn_rates(series, TARGET, AT)
    assert rates[rule.long] > rule.factor and rates[rule.short] == 0
    assert rule not in firing(rates)
    # short window over the factor, long window under it: a blip, no alert
    blip = rule.factor * (1 - TARGET) * rule.short.total_seconds() * 1.5
    rates = burn_rates(bad_for(blip), TARGET, AT)
    assert rates[rule.short] > rule.factor and rates[rule.long] < rule.factor
    assert rule not in firing(rates)


def test_event_series_counts_runs_in_window_and_budget_left():
    day = timedelta(days=1)
    events = [(AT - i * day, 1.0, 1.0) for i in range(1, 30)] + [(AT - timedelta(minutes=2), 0.0, 1.0)]
    series = EventSeries.of(events)
    b = budget(series, 0.99, AT, timedelta(days=30))
    assert (b.bad, b.total) == (1.0, 30.0)
    assert b.consumed == pytest.approx((1 / 30) / 0.01)
    assert b.left == pytest.approx(1 - (1 / 30) / 0.01)  # overspent: negative
    assert burn_rate(series, 0.99, AT, timedelta(minutes=5)) == pytest.approx(100.0)
    assert burn_rate(series, 0.99, AT + timedelta(minutes=5), timedelta(minutes=5)) is None


def test_serial_hops_multiply():
    from headwater.observe.burn import serial

    assert serial([0.999] * 5) == pytest.approx(0.995, abs=1e-4)
    assert serial([0.999] * 5) == pytest.approx(0.999 ** 5)
    assert serial([]) == 1.0
