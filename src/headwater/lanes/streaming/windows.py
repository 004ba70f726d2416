"""Windowed aggregates on event time: tumbling and sliding, emitted when the watermark passes.

Each declared window is a table ``<product>__<window>`` partitioned by ``window_date``, with
``window_start``, ``window_end``, the group-by columns and the aggregates. It is computed from
the committed, deduplicated product table (never from in-flight state), so it is exactly once by
construction: when the watermark closes new windows, or late rows were applied under the
``update`` policy, the affected days are recomputed from the table and their partitions replaced
in one commit. The commit's summary records how far windows were emitted and the product
snapshot they reflect; after a crash the emitter picks up the late days committed since then.
Window starts are aligned to the epoch in multiples of the slide (of the size when tumbling).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from headwater.lanes.streaming.state import from_us
from headwater.spec.types import parse_duration

THROUGH = "window.through-us"
SOURCE = "window.source-snapshot"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class WindowEmitter:
    def __init__(self, platform, product) -> None:
        self.platform = platform
        self.product = product
        self.lh = platform.lakehouse
        self.through: dict[str, int | None] = {}
        self.pending_days: dict[str, set[str]] = {}
        for w in product.stream.windows:
            self.through[w.name], self.pending_days[w.name] = self._restore(self.table_name(w))

    def table_name(self, window) -> str:
        return f"{self.product.name}__{window.name}"

    def _restore(self, table: str) -> tuple[int | None, set[str]]:
        if not self.lh.exists(table) or self.lh.current(table) is None:
            return None, set()
        summary = self.lh.current(table).summary
        through = int(summary.get("headwater." + THROUGH, "0") or 0) or None
        source = summary.get("headwater." + SOURCE)
        days: set[str] = set()
        after = False
        for snap in self.lh.snapshots(self.product.name) if self.lh.exists(self.product.name) else []:
            if after:
                days |= set(json.loads(snap.summary.get("headwater.stream.late-days", "[]")))
            after = after or str(snap.snapshot_id) == source
        return through, days

    def emit(self, watermark_us: int | None, late_days: list[str]) -> int:
        """Emit windows closed by the watermark and recompute days touched by late updates."""
        if watermark_us is None or not self.lh.exists(self.product.name):
            return 0
        emitted = 0
        for w in self.product.stream.windows:
            self.pending_days[w.name] |= set(late_days)
            emitted += self._emit_one(w, watermark_us)
        return emitted

    def _emit_one(self, w, watermark_us: int) -> int:
        size = parse_duration(w.size) // timedelta(microseconds=1)
        slide = parse_duration(w.slide or w.size) // timedelta(microseconds=1) \
            if w.kind == "sliding" else size
        closed_end = ((watermark_us - size) // slide) * slide + size  # newest window end <= watermark
        through = self.through[w.name]
        days = set(self.pending_days[w.name])
        if through is not None and closed_end > through:
            first = from_us(through - size + slide).date()
            last = from_us(closed_end - size).date()
            days |= {(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
        if through is not None and closed_end <= through and not days:
            return 0
        data = self._compute(w, size, slide, closed_end, None if through is None else sorted(days))
        snap = self.lh.current(self.product.name)
        if data.num_rows:
            self.lh.write(self.table_name(w), data, mode="partitions", partition_column="window_date",
                          properties={THROUGH: str(max(closed_end, through or 0)),
                                      SOURCE: str(snap.snapshot_id) if snap else ""})
        self.through[w.name] = max(closed_end, through or 0)
        self.pending_days[w.name] = set()
        return data.num_rows

    def _compute(self, w, size: int, slide: int, closed_end: int, days: list[str] | None):
        et = _q(self.product.stream.event_time)
        n = -(-size // slide)
        groups = [_q(g) for g in w.group_by]
        aggs = ", ".join(f"{expr} AS {_q(name)}" for name, expr in w.aggregates.items())
        where = ""
        if days is not None:
            lower = from_us(int((date.fromisoformat(days[0]) - date(1970, 1, 1)).total_seconds() * 1e6))
            where = f" WHERE {et} >= TIMESTAMPTZ '{lower.isoformat()}'"
            day_filter = " AND CAST(to_timestamp(__start / 1000000) AS DATE) IN (" + \
                ", ".join(f"DATE '{d}'" for d in days) + ")"
        else:
            day_filter = ""
        sql = f"""
        WITH ev AS (SELECT *, epoch_us({et}) AS __us FROM events{where}),
        win AS (SELECT ev.*, (__us // {slide}) * {slide} - r.k * {slide} AS __start
                FROM ev, range(0, {n}) AS r(k))
        SELECT to_timestamp(__start / 1000000) AS window_start,
               to_timestamp((__start + {size}) / 1000000) AS window_end,
               CAST(to_timestamp(__start / 1000000) AS DATE) AS window_date
               {''.join(', ' + g for g in groups)}, {aggs}
        FROM win
        WHERE __us >= __start AND __us < __start + {size} AND __start + {size} <= {closed_end}{day_filter}
        GROUP BY __start{''.join(', ' + g for g in groups)}
        ORDER BY __start{''.join(', ' + g for g in groups)}"""
        session = self.platform.engine.session()
        try:
            session.register_plan("events", self.lh.plan(self.product.name))
            return session.query(sql)
        finally:
            session.close()
