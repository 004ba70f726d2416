"""The budgeted SLIs of one product, computed from its ledger history at one instant.

freshness     time-based: the share of seconds the data was fresher than the objective
completeness  per run: rows delivered / rows expected by reconciliation; zero rows counts as 0,
              except a streaming or CDC interval that received nothing (idle: no event)
availability  per scheduled run: succeeded within the freshness objective of its tick
validity      per row: rows passing the contract / rows the gate saw (when a gate recorded it)

Each returns an ``SliResult`` and the event series the budget and burn rates are computed on.
"""

from __future__ import annotations

import statistics
from datetime import datetime

from headwater.observe.burn import EventSeries, IntervalSeries
from headwater.observe.history import History, SliResult, Status, gate_counts
from headwater.observe.objectives import Objectives
from headwater.spec.types import format_duration


def freshness(h: History, obj: Objectives) -> tuple[SliResult, IntervalSeries]:
    """Freshness(t) = t - the newest data_time committed by t; bad while above the objective."""
    limit = obj.freshness
    bad: list[tuple[datetime, datetime]] = []
    newest: datetime | None = None
    cursor = h.since
    for step in h.successes + [None]:
        end = step.finished_at if step is not None else h.at
        if cursor is not None and end > cursor:
            start = max(cursor, (h.since if newest is None else newest) + limit)
            if end > start:
                if bad and bad[-1][1] >= start:
                    bad[-1] = (bad[-1][0], end)
                else:
                    bad.append((start, end))
        if step is not None and step.data_time is not None:
            newest = step.data_time if newest is None else max(newest, step.data_time)
        cursor = end
    series = IntervalSeries(h.since, bad)
    objective = f"<= {format_duration(limit)}"
    if newest is None:
        return SliResult("freshness", Status.NO_DATA if not h.steps else Status.BREACHED, None, "seconds",
                         objective, obj.target("freshness"),
                         {"data_time": None, "reason": "no successful run has delivered data yet"},
                         bad_since=bad[-1][0] if bad and bad[-1][1] >= h.at else None), series
    age = (h.at - newest).total_seconds()
    breached = age > limit.total_seconds()
    return SliResult("freshness", Status.BREACHED if breached else Status.OK, age, "seconds", objective,
                     obj.target("freshness"), {"data_time": newest.isoformat(),
                                               "limit_seconds": limit.total_seconds()},
                     bad_since=(newest + limit) if breached else None), series


def expected_rows(h: History, obj: Objectives, step) -> tuple[float, str]:
    """What a run should have delivered: gate reconciliation, the declared minimum, and for an
    empty run the median of earlier non-empty runs (zero rows is never complete)."""
    delivered = step.rows_written or 0
    expected, basis = float(delivered), "delivered"
    counts = gate_counts(step.details)
    if counts is not None:  # in = out + quarantined + filtered: filtered rows were meant to go
        expected, basis = float(delivered + counts[1]), "reconciliation: in = out + quarantined + filtered"
    if obj.expected_rows_min is not None and obj.expected_rows_min > expected:
        expected, basis = float(obj.expected_rows_min), "slo.expected_rows_min"
    if delivered == 0:
        earlier = [s.rows_written for s in h.successes if s.finished_at < step.finished_at and s.rows_written]
        baseline = statistics.median(earlier) if earlier else 1.0
        if baseline > expected:
            expected, basis = float(baseline), "median of earlier runs (zero rows delivered)"
    return max(expected, 1.0) if delivered == 0 else expected, basis


def completeness(h: History, obj: Objectives) -> tuple[SliResult, EventSeries]:
    """Per run: delivered / expected. An idle streaming or CDC interval (its source sent nothing)
    is no event: a quiet night is not lost data, and freshness reports a stream that stopped."""
    events, last, idle = [], None, 0
    for step in h.successes:
        if step.idle:
            idle += 1
            continue
        expected, basis = expected_rows(h, obj, step)
        ratio = min(1.0, (step.rows_written or 0) / expected) if expected else 1.0
        events.append((step.finished_at, ratio, 1.0))
        last = (step, expected, basis, ratio)
    series = EventSeries.of(events)
    objective = f">= {obj.completeness:.3%}"
    if last is None:
        reason = "every run so far was idle (its source sent nothing)" if idle else "no successful run yet"
        return SliResult("completeness", Status.NO_DATA, None, "ratio", objective, obj.completeness,
                         {"reason": reason, "idle_runs": idle}), series
    step, expected, basis, ratio = last
    breached = ratio < obj.completeness
    return SliResult("completeness", Status.BREACHED if breached else Status.OK, ratio, "ratio", objective,
                     obj.completeness, {"rows_delivered": step.rows_written, "rows_expected": expected,
                                        "expected_from": basis, "step_id": step.step_id,
                                        "partition": step.partition, "zero_rows": not step.rows_written,
                                        "idle_runs": idle},
                     bad_since=step.finished_at if breached else None), series


def availability(h: History, obj: Objectives, schedule: str | None) -> tuple[SliResult, EventSeries]:
    """A scheduled run is good when a run of the product succeeded between its tick and the tick
    plus the freshness objective; without a schedule, every run is its own tick."""
    grace = obj.freshness
    events: list[tuple[datetime, float, float]] = []
    late: list[str] = []
    if schedule and h.since is not None:
        from headwater.observe.schedule import ticks

        done = [s.finished_at for s in h.successes]
        for tick in ticks(schedule, h.since, h.at):
            ok = any(tick <= f <= tick + grace for f in done)
            if ok or tick + grace <= h.at:
                events.append((min(tick + grace, h.at), 1.0 if ok else 0.0, 1.0))
                if not ok:
                    late.append(tick.isoformat())
    else:
        for s in h.steps:
            due = s.queued_at + grace
            if s.status == "success":
                ok = s.finished_at <= due
            elif s.status in ("failed", "skipped") or due <= h.at:
                ok = False
            else:
                continue
            events.append((s.finished_at or due, 1.0 if ok else 0.0, 1.0))
            if not ok:
                late.append(s.queued_at.isoformat())
    series = EventSeries.of(events)
    objective = f">= {obj.availability:.3%} on time (within {format_duration(grace)})"
    window = [e for e in events if e[0] > h.at - obj.window]
    if not window:
        return SliResult("availability", Status.NO_DATA, None, "ratio", objective, obj.availability,
                         {"schedule": schedule}), series
    value = sum(e[1] for e in window) / len(window)
    last_bad = events[-1][1] < 1.0
    status = Status.BREACHED if value < obj.availability else Status.OK
    return SliResult("availability", status, value, "ratio", objective, obj.availability,
                     {"schedule": schedule, "runs": len(window), "missed": late[-5:]},
                     bad_since=events[-1][0] if last_bad else None), series


def validity(h: History, obj: Objectives) -> tuple[SliResult, EventSeries]:
    events, last = [], None
    for step in h.successes:
        counts = gate_counts(step.details, contract_only=True)
        if counts is None:
            continue
        passed, quarantined, _ = counts
        if passed + quarantined:
            events.append((step.finished_at, float(passed), float(passed + quarantined)))
            last = (step, passed, quarantined)
    series = EventSeries.of(events)
    objective = f">= {obj.completeness:.3%} of rows pass the contract"
    if last is None:
        return SliResult("validity", Status.NO_DATA, None, "ratio", objective, obj.completeness,
                         {"reason": "no contract results recorded for this product"}), series
    step, passed, quarantined = last
    value = passed / (passed + quarantined)
    breached = value < obj.completeness
    return SliResult("validity", Status.BREACHED if breached else Status.OK, value, "ratio", objective,
                     obj.completeness, {"passed": passed, "quarantined": quarantined, "step_id": step.step_id},
                     bad_since=step.finished_at if breached else None), series


def latency(h: History, obj: Objectives, input_commits) -> SliResult:
    """Per hop: the time from an input product's commit to this product's commit that read it.

    ``input_commits(product, snapshot_id)`` returns when that input snapshot was committed.
    """
    hops: dict[str, list[float]] = {}
    for step in h.successes:
        for name, snap in step.input_snapshots.items():
            if snap is None or not str(snap).isdigit():
                continue  # a raw source, read by file version
            committed = input_commits(name, int(snap))
            if committed is not None:
                hops.setdefault(name, []).append((step.finished_at - committed).total_seconds())
    limit = obj.freshness.total_seconds()
    objective = f"<= {format_duration(obj.freshness)} per hop"
    if not hops:
        return SliResult("latency", Status.NO_DATA, None, "seconds", objective, None,
                         {"reason": "no run of this product has read another product yet"})
    detail = {name: {"last": v[-1], "p50": statistics.median(v), "p95": _p95(v), "max": max(v), "runs": len(v)}
              for name, v in sorted(hops.items())}
    worst = max(d["last"] for d in detail.values())
    return SliResult("latency", Status.BREACHED if worst > limit else Status.OK, worst, "seconds",
                     objective, None, {"hops": detail})


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

