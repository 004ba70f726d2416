"""``Platform.cost``: showback, trends, budgets, waste and retention over one project.

Each report reads the ledger and the table metadata afresh (the service lives as long as the
platform object, which may be a long-running server), prices it with the project's cost model
(``cost:`` in headwater.yaml, documented defaults) and returns data; shells format it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from headwater.cost.attribution import GROUPS, CostLine, attribute, roll_up, shared_split
from headwater.cost.schema import ReadRow
from headwater.cost.usage import Usage, load_usage
from headwater.errors import HeadwaterError, LedgerError
from headwater.spec.types import format_duration, parse_duration

MAX_BUCKETS = 500  # a year of daily buckets; each one prices the whole project once


@dataclass
class Showback:
    by: str
    start: datetime
    end: datetime
    currency: str
    lines: list[CostLine]
    total: float  # the sum of the lines: everything attributed
    # control plane of time in the window when no declared product existed yet: in no line
    unattributed: float = 0.0

    def to_dict(self) -> dict:
        return {"by": self.by, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "currency": self.currency, "total_cost": self.total,
                "unattributed_cost": self.unattributed,
                "lines": [line.to_dict() for line in self.lines]}


@dataclass
class Trend:
    by: str
    bucket: timedelta
    buckets: list[datetime]
    series: dict[str, list[float]]
    growth: list[dict] = field(default_factory=list)
    unattributed: list[float] = field(default_factory=list)  # per bucket, as in Showback

    def to_dict(self) -> dict:
        return {"by": self.by, "bucket_seconds": self.bucket.total_seconds(),
                "buckets": [b.isoformat() for b in self.buckets], "series": self.series,
                "unattributed": self.unattributed, "growth": self.growth}


class CostService:
    def __init__(self, platform) -> None:
        self.platform = platform

    @property
    def config(self):
        return self.platform.project.config.cost

    def usage(self, since: datetime | None = None) -> Usage:
        """The ledger from ``since`` (default: all of it) and every table's metadata, now."""
        return load_usage(self.platform, since)

    # reads served ----------------------------------------------------------
    def record_reads(self, plans, channel: str = "query", reader: str | None = None) -> None:
        """Account the bytes of each scanned snapshot served to a reader (query, api, ...)."""
        now = self.platform.clock.now()
        rows = [ReadRow(product=p.table, snapshot_id=p.snapshot_id, channel=channel, reader=reader,
                        rows=p.record_count, bytes=p.bytes, read_at=now) for p in plans]
        if not rows:
            return
        try:
            with Session(self.platform.ledger.engine) as session, session.begin():
                session.add_all(rows)
        except SQLAlchemyError as exc:
            raise LedgerError(f"cannot record the reads of {', '.join(r.product for r in rows)}: {exc}",
                              fix="check the ledger database (ledger.url / HEADWATER_LEDGER_URL)") from exc

    # showback --------------------------------------------------------------
    def showback(self, by: str = "product", period: timedelta = timedelta(days=30),
                 usage: Usage | None = None, end: datetime | None = None,
                 month: str | None = None) -> Showback:
        """Cost per ``by`` for the ``period`` ending at ``end`` (now), or for a calendar ``month``
        ('2026-10'; the current month runs to now)."""
        if by not in GROUPS:
            raise HeadwaterError(f"cannot group cost by {by!r}", fix=f"use --by {'|'.join(GROUPS)}")
        now = usage.now if usage else self.platform.clock.now()
        if month is not None:
            start, end = _month(month)
            end = min(end, now)
            period = max(end - start, timedelta(0))
        end = end or now
        start = end - period
        usage = usage or self.usage(since=start)
        project = self.platform.project
        lines = attribute(project, usage, start, end)
        total = math.fsum(line.total_cost for line in lines)
        return Showback(by, start, end, self.config.currency, roll_up(lines, by), total,
                        shared_split(project, usage, start, end).unattributed)

    def trend(self, by: str = "product", period: timedelta = timedelta(days=90),
              bucket: timedelta = timedelta(days=7), usage: Usage | None = None) -> Trend:
        """Cost per bucket over ``period``, and a growth ranking: the last half vs the first half."""
        if by not in GROUPS:
            raise HeadwaterError(f"cannot group cost by {by!r}", fix=f"use --by {'|'.join(GROUPS)}")
        if bucket <= timedelta(0) or bucket > period:
            raise HeadwaterError("the bucket must be positive and no longer than the period",
                                 fix="e.g. headwater cost trend --period 90d --bucket 7d")
        count = max(int(period / bucket), 1)
        if count > MAX_BUCKETS:
            fits = next((b for b in ("1h", "6h", "1d", "7d", "30d", "365d")
                         if period / parse_duration(b) <= MAX_BUCKETS), "365d")
            raise HeadwaterError(f"{format_duration(bucket)} buckets over {format_duration(period)} make {count:,} "
                                 f"buckets; at most {MAX_BUCKETS} are priced",
                                 fix=f"use a bigger bucket or a shorter period, e.g. --bucket {fits}")
        usage = usage or self.usage(since=self.platform.clock.now() - bucket * count)
        first = usage.now - bucket * count
        starts = [first + bucket * i for i in range(count)]
        series: dict[str, list[float]] = {}
        project = self.platform.project
        for i, start in enumerate(starts):
            for line in roll_up(attribute(project, usage, start, start + bucket), by):
                series.setdefault(line.key, [0.0] * count)[i] = line.total_cost
        unattributed = [shared_split(project, usage, start, start + bucket).unattributed for start in starts]
        half = count // 2 or 1
        growth = []
        for key, values in series.items():
            before, after = math.fsum(values[:half]), math.fsum(values[-half:])
            growth.append({"key": key, "before": before, "after": after,
                           "growth": (after - before) / before if before else None})
        growth.sort(key=lambda g: (g["growth"] is None, -(g["growth"] or 0), -g["after"]))
        return Trend(by, bucket, starts, series, growth, unattributed)

    # budgets, waste, retention live in their own modules ---------------------
    def budgets(self, send: bool = True, usage: Usage | None = None, sinks=None):
        """Budgets, actuals and forecasts this month; new 80%/100% alerts are sent once."""
        from headwater.cost.budgets import evaluate_budgets

        if usage is None:
            from headwater.cost.budgets import month_bounds

            now = self.platform.clock.now()
            usage = self.usage(since=min(month_bounds(now)[0], now - self.config.budgets.forecast_window))
        return evaluate_budgets(self, usage, send=send, sinks=sinks)

    def waste(self, unread_after: timedelta | None = None, usage: Usage | None = None):
        from headwater.cost.waste import find_waste

        window = self.config.unread_after if unread_after is None else unread_after
        if window <= timedelta(0):  # 0d is not "the default": it is a window nothing fits in
            raise HeadwaterError(f"the unread window must be positive, not {format_duration(window)}",
                                 fix="e.g. headwater cost waste --unread 30d")
        return find_waste(self, usage or self.usage(since=self.platform.clock.now() - window), window)

    def retention_plan(self, products: list[str] | None = None):
        from headwater.cost.retention import plan_retention

        return plan_retention(self, products)

    def retention_apply(self, products: list[str] | None = None):
        from headwater.cost.retention import apply_retention

        return apply_retention(self, products)


def _month(text: str) -> tuple[datetime, datetime]:
    from headwater.cost.budgets import month_bounds

    try:
        year, month = (int(part) for part in text.split("-"))
        return month_bounds(datetime(year, month, 1, tzinfo=timezone.utc))
    except ValueError:
        raise HeadwaterError(f"{text!r} is not a month", fix="give it as YYYY-MM, e.g. 2026-10") from None
