"""Seasonal, robust anomaly scores; the evaluated period and known outliers stay out of training."""

import statistics
from datetime import datetime, timedelta, timezone

from headwater.observe.anomaly import Point, robust, score

MONDAY = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)


def weekly_history(weeks: int = 6) -> list[Point]:
    """Daily runs: 1000 rows on weekdays, 200 at weekends, small noise."""
    out = []
    for i in range(weeks * 7):
        t = MONDAY + timedelta(days=i)
        base = 200 if t.weekday() >= 5 else 1000
        out.append(Point(t, base + (i % 5) * 3, f"s{i}"))
    return out


def test_day_of_week_seasonality():
    history = weekly_history()
    saturday = MONDAY + timedelta(days=6 * 7 + 5)
    wednesday = MONDAY + timedelta(days=6 * 7 + 2)
    sat = score("rows", history, Point(saturday, 205))
    wed = score("rows", history, Point(wednesday, 205))
    saturdays = [p.value for p in history if p.at.weekday() == 5]
    assert sat.season == "weekday+hour" and sat.expected == statistics.median(saturdays)
    assert sat.training_points == len(saturdays) == 6
    assert not sat.anomalous  # a quiet Saturday is normal
    assert wed.anomalous and wed.direction == "low"  # the same volume on a Wednesday is not


def test_hour_of_day_seasonality():
    # hourly arrivals: busy at 14:00, quiet at 03:00
    start = MONDAY.replace(hour=0)
    history = [Point(start + timedelta(hours=h), 500.0 if (h % 24) == 14 else 50.0 + h % 3)
               for h in range(24 * 5)]  # Monday to Friday
    at = start + timedelta(days=5, hours=14)  # a Saturday: no same-weekday history yet
    busy = score("rows", history, Point(at, 505.0))
    assert busy.season == "hour" and busy.expected == 500 and not busy.anomalous
    assert score("rows", history, Point(at.replace(hour=3), 505.0)).anomalous


def test_the_evaluated_period_is_excluded_from_training():
    # ten normal days, then a feed that has been broken for twelve days: the evaluated period
    normal = [Point(MONDAY + timedelta(days=i), 1000.0 + i % 3, f"n{i}") for i in range(10)]
    start = MONDAY + timedelta(days=10)
    broken = [Point(start + timedelta(days=i), 10.0, f"b{i}") for i in range(12)]
    history = normal + broken
    judged = score("rows", history, broken[-1], evaluated=(start, broken[-1].at))
    assert judged.training_points == 10 and judged.expected == 1001
    assert judged.anomalous and judged.direction == "low"
    # had the period been part of training, the breakage would have become the baseline
    leaky = score("rows", history, broken[-1], evaluated=(broken[-1].at, broken[-1].at))
    assert leaky.training_points == 21 and leaky.expected == 10 and not leaky.anomalous


def test_known_outliers_are_left_out_and_median_mad_is_robust():
    history = weekly_history(10)
    monday = MONDAY + timedelta(days=10 * 7)
    # six of ten Mondays were sale days, known and marked
    spiked = [Point(p.at, 50_000.0, p.ref) if p.at.weekday() == 0 and p.at < MONDAY + timedelta(weeks=6)
              else p for p in history]
    sale_refs = {p.ref for p in spiked if p.value == 50_000.0}
    with_sales = score("rows", spiked, Point(monday, 1000.0))
    assert with_sales.anomalous and with_sales.expected == 50_000  # Mondays learned as sales
    without = score("rows", spiked, Point(monday, 1000.0), outliers=sale_refs)
    assert without.season == "weekday+hour" and without.training_points == 4 and not without.anomalous
    assert sorted(without.excluded) == sorted(sale_refs)
    # one wild value among many does not move a median/MAD baseline
    median, spread = robust([100, 101, 99, 100, 102, 98, 10_000])
    assert median == 100 and spread < 5


def test_too_little_history_scores_nothing():
    s = score("rows", [Point(MONDAY, 1.0)], Point(MONDAY + timedelta(days=1), 1.0))
    assert s.score is None and not s.anomalous
