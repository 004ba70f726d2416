"""Error budgets, burn rates and the multi-window, multi-burn-rate alert rules.

An SLI is a series of good and bad events: runs or rows for event-based SLIs, seconds for
time-based ones (freshness). Over any window the error ratio is bad / total; the burn rate is
that ratio divided by the budget (1 - target): a burn rate of 1 spends exactly the whole budget
over the compliance window, 14.4 spends 2% of a 30-day budget in one hour.

The rules are those of the Google SRE workbook, chapter "Alerting on SLOs", table 5-8: an alert
fires only when BOTH its long and its short window burn faster than the factor.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class BurnRule:
    severity: str
    long: timedelta
    short: timedelta
    factor: float

    @property
    def name(self) -> str:
        return f"{_fmt(self.long)}/{_fmt(self.short)} > {self.factor:g}x"


RULES: tuple[BurnRule, ...] = (
    BurnRule("page", timedelta(hours=1), timedelta(minutes=5), 14.4),
    BurnRule("page", timedelta(hours=6), timedelta(minutes=30), 6.0),
    BurnRule("ticket", timedelta(days=3), timedelta(hours=6), 1.0),
)
WINDOWS: tuple[timedelta, ...] = tuple(sorted({w for r in RULES for w in (r.long, r.short)}))


class Series(Protocol):
    def counts(self, start: datetime, end: datetime) -> tuple[float, float]:
        """(bad, total) events in the window (start, end]."""


@dataclass
class EventSeries:
    """Discrete events, each with a time, a good weight and a total weight (runs or rows)."""

    times: list[datetime]
    good: list[float]
    total: list[float]

    @classmethod
    def of(cls, events: list[tuple[datetime, float, float]]) -> EventSeries:
        events = sorted(events, key=lambda e: e[0])
        return cls([e[0] for e in events], [e[1] for e in events], [e[2] for e in events])

    def counts(self, start: datetime, end: datetime) -> tuple[float, float]:
        lo, hi = bisect_right(self.times, start), bisect_right(self.times, end)  # (start, end]
        total = sum(self.total[lo:hi])
        return total - sum(self.good[lo:hi]), total


@dataclass
class IntervalSeries:
    """Time-based: every second after ``since`` is an event; seconds inside ``bad`` are bad."""

    since: datetime | None
    bad: list[tuple[datetime, datetime]]  # sorted, non-overlapping

    def counts(self, start: datetime, end: datetime) -> tuple[float, float]:
        if self.since is not None:
            start = max(start, self.since)
        if self.since is None or end <= start:
            return 0.0, 0.0
        ends = [b for _, b in self.bad]
        bad = 0.0
        for a, b in self.bad[bisect_right(ends, start):]:
            if a >= end:
                break
            bad += (min(b, end) - max(a, start)).total_seconds()
        return bad, (end - start).total_seconds()


@dataclass
class Budget:
    target: float
    window: timedelta
    bad: float
    total: float

    @property
    def sli(self) -> float | None:
        return None if not self.total else 1 - self.bad / self.total

    @property
    def allowed(self) -> float:
        return (1 - self.target) * self.total

    @property
    def consumed(self) -> float | None:
        """Share of the budget spent (above 1 means the SLO is broken)."""
        if not self.total:
            return None
        if self.allowed == 0:
            return 0.0 if self.bad == 0 else float("inf")
        return self.bad / self.allowed

    @property
    def left(self) -> float | None:
        return None if self.consumed is None else 1 - self.consumed


def burn_rate(series: Series, target: float, at: datetime, window: timedelta) -> float | None:
    """Error ratio over the window ending at ``at``, in units of the budget; None without events."""
    bad, total = series.counts(at - window, at)
    if not total:
        return None
    budget = 1 - target
    if budget <= 0:
        return 0.0 if bad == 0 else float("inf")
    return (bad / total) / budget


def budget(series: Series, target: float, at: datetime, window: timedelta) -> Budget:
    bad, total = series.counts(at - window, at)
    return Budget(target, window, bad, total)


def burn_rates(series: Series, target: float, at: datetime) -> dict[timedelta, float | None]:
    return {w: burn_rate(series, target, at, w) for w in WINDOWS}


def firing(rates: dict[timedelta, float | None], rules: tuple[BurnRule, ...] = RULES) -> list[BurnRule]:
    """The rules whose long AND short windows both burn faster than their factor."""
    out = []
    for rule in rules:
        long, short = rates.get(rule.long), rates.get(rule.short)
        if long is not None and short is not None and long > rule.factor and short > rule.factor:
            out.append(rule)
    return out


def serial(availabilities: list[float]) -> float:
    """Availability of hops in series: every hop must be up, so they multiply
    (five hops at 99.9% give about 99.5%)."""
    out = 1.0
    for a in availabilities:
        out *= a
    return out


def _fmt(delta: timedelta) -> str:
    from headwater.spec.types import format_duration

    return format_duration(delta)
