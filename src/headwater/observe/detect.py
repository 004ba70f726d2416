"""Anomalies per product (volume, arrival time, duration) and schema changes between snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from headwater.observe.anomaly import Point, Score, score
from headwater.observe.history import History, SliResult, Status

METRICS = ("rows", "bytes", "arrival", "duration")


def points(h: History, metric: str) -> list[Point]:
    """The metric of every successful run: rows/bytes written, arrival (seconds after midnight UTC
    of the commit), duration (seconds from start to commit)."""
    out = []
    for s in h.successes:
        if metric == "rows" and s.rows_written is not None:
            value = float(s.rows_written)
        elif metric == "bytes" and s.bytes_written is not None:
            value = float(s.bytes_written)
        elif metric == "arrival":
            midnight = s.finished_at.replace(hour=0, minute=0, second=0, microsecond=0)
            value = (s.finished_at - midnight).total_seconds()
        elif metric == "duration" and s.started_at is not None:
            value = (s.finished_at - s.started_at).total_seconds()
        else:
            continue
        out.append(Point(s.finished_at, value, s.step_id))
    return out


def anomalies(h: History, *, outliers: set[str] | None = None, evaluated: timedelta | None = None,
              threshold: float = 3.5, metrics: tuple[str, ...] = METRICS) -> list[Score]:
    """Score the runs in the evaluated period (default: the latest run) on each metric.

    Training is every earlier run outside the evaluated period, minus known outliers.
    """
    scores = []
    for metric in metrics:
        pts = points(h, metric)
        if not pts:
            continue
        start = h.at - evaluated if evaluated is not None else pts[-1].at
        window = (start, h.at)
        for p in (q for q in pts if q.at >= start):
            scores.append(score(metric, pts, p, evaluated=window, outliers=outliers, threshold=threshold,
                                absolute_floor=1.0 if metric in ("arrival", "duration") else 1e-9))
    return scores


def volume(h: History, outliers: set[str] | None = None, threshold: float = 3.5) -> SliResult:
    """Rows (and bytes) of the latest run against the seasonal baseline of earlier runs."""
    scores = {s.metric: s for s in anomalies(h, outliers=outliers, threshold=threshold,
                                              metrics=("rows", "bytes"))}
    rows = scores.get("rows")
    if rows is None:
        return SliResult("volume", Status.NO_DATA, None, "rows", None, None, {"reason": "no run yet"})
    detail = {m: s.to_dict() for m, s in scores.items()}
    if rows.expected is None:
        return SliResult("volume", Status.NO_DATA, rows.value, "rows", "within the learned baseline", None,
                         {**detail, "reason": f"baseline needs more runs ({rows.training_points} so far)"})
    bad = any(s.anomalous for s in scores.values())
    return SliResult("volume", Status.ANOMALOUS if bad else Status.OK, rows.value, "rows",
                     f"|z| <= {threshold:g} ({rows.season} median {rows.expected:,.0f})", None, detail,
                     bad_since=rows.at if bad else None)


@dataclass
class SchemaChange:
    product: str
    snapshot_id: int
    at: datetime
    kind: str  # new | missing | retyped
    column: str
    before: str | None
    after: str | None

    def to_dict(self) -> dict:
        return {"product": self.product, "snapshot_id": self.snapshot_id, "at": self.at.isoformat(),
                "kind": self.kind, "column": self.column, "before": self.before, "after": self.after}


def schema_changes(table, product: str, commit_time=None) -> list[SchemaChange]:
    """New, missing and retyped columns between consecutive snapshots of an Iceberg table.

    ``commit_time(step_id)`` may give the commit time of the step that wrote a snapshot (from
    the ledger, so simulated clocks hold); otherwise the snapshot's own timestamp is used.
    """
    schemas = table.schemas()
    previous = None
    out: list[SchemaChange] = []
    for snap in sorted(table.snapshots(), key=lambda s: (s.timestamp_ms, s.sequence_number or 0)):
        schema = schemas.get(snap.schema_id) if snap.schema_id is not None else table.schema()
        cols = {f.name: str(f.field_type) for f in schema.fields} if schema is not None else {}
        if previous is not None and cols != previous:
            props = snap.summary.additional_properties if snap.summary else {}
            step = props.get("headwater.step-id")
            at = (commit_time(step) if commit_time and step else None) or \
                datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=timezone.utc)
            for name in cols.keys() - previous.keys():
                out.append(SchemaChange(product, snap.snapshot_id, at, "new", name, None, cols[name]))
            for name in previous.keys() - cols.keys():
                out.append(SchemaChange(product, snap.snapshot_id, at, "missing", name, previous[name], None))
            for name in cols.keys() & previous.keys():
                if cols[name] != previous[name]:
                    out.append(SchemaChange(product, snap.snapshot_id, at, "retyped", name,
                                            previous[name], cols[name]))
        previous = cols
    return out
