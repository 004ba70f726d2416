"""The consumer loop: micro-batches committed exactly once, acknowledged after the commit.

One micro-batch: decoded chunks up to ``max_batch_rows`` or ``max_batch_seconds`` -> event
times -> watermark (late or not, record by record) -> late policy -> contract gate -> dedupe
-> (quarantine commit) -> ONE Iceberg commit of the good rows whose snapshot summary holds the
source positions, watermark, partition clocks and counts -> ``source.commit(positions)`` ->
windows. A crash anywhere leaves either the previous commit (replay from its positions, and the
same records are judged the same way) or the new one (the ack is merely repeated).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.errors import RunFailed
from headwater.lanes.gate import EVENT_TIME_RULE, LATE_RULE, PassThroughGate
from headwater.lanes.streaming import killpoints
from headwater.lanes.streaming.decode import TS, align, micros
from headwater.lanes.streaming.reader import Chunk, ChunkReader
from headwater.lanes.streaming.state import (
    DedupeState,
    StreamState,
    Watermarks,
    from_us,
    position_key,
)
from headwater.lanes.streaming.steps import COUNTERS, StepRecorder
from headwater.storage.parquet_names import physical_name

if TYPE_CHECKING:
    from headwater.platform import Platform

IDLE_POLL_SECONDS = 0.2
EXPIRE_EVERY_BATCHES = 100  # snapshot expiry cadence (and at the end of a run)
FENCE_PATIENCE = 200  # empty reads before giving up on reaching the replay fence


@dataclass
class RunStats:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    started: float = field(default_factory=time.monotonic)
    snapshot_id: int | None = None
    watermark_us: int | None = None
    busy_seconds: float = 0.0  # from the read that started a batch to its commit (idle polls excluded)

    def to_dict(self) -> dict[str, Any]:
        seconds = max(time.monotonic() - self.started, 1e-9)
        wm = from_us(self.watermark_us)
        return {**self.counts, "seconds": round(seconds, 3), "snapshot_id": self.snapshot_id,
                "busy_seconds": round(self.busy_seconds, 3),
                "events_per_second": round(self.counts["rows_in"] / max(self.busy_seconds, 1e-9), 1),
                "watermark": wm.isoformat() if wm else None}


class StreamConsumer:
    def __init__(self, platform: Platform, product, source, *, run_id: str, steps: StepRecorder,
                 gate=None, progress: Callable[[RunStats], None] | None = None) -> None:
        self.platform = platform
        self.product = product
        self.spec = product.stream
        self.name = product.name
        self.quarantine_name = f"{product.name}__quarantine"
        self.lh = platform.lakehouse
        self.source = source
        self.gate = gate or PassThroughGate()
        self.run_id = run_id
        self.steps = steps
        self.progress = progress
        self.stats = RunStats()
        self.reader = ChunkReader(source, self.spec.event_time)

    # restart -----------------------------------------------------------------
    def restore(self) -> StreamState:
        """Resume from the last committed snapshot: positions, watermark, dedupe state, fence."""
        state, schema = StreamState(), None
        if self.lh.exists(self.name):
            table = self.lh.load(self.name)
            schema = table.schema().as_arrow()
            snap = self.lh.current(self.name)
            if snap is not None:
                state = StreamState.from_summary(snap.summary)
        self.state = state
        self.reader.schema = schema
        self.watermarks = Watermarks(self.spec.allowed_lateness, self.spec.idle_timeout,
                                     self.platform.clock, state.partition_max, state.watermark_us)
        self.dedupe = DedupeState(self.spec.dedupe.key, self.spec.dedupe.window) if self.spec.dedupe else None
        if self.dedupe is not None and schema is not None:
            self._rebuild_dedupe(schema)
        self.reader.set_fence(self._quarantine_fence())
        self.source.seek(state.positions)
        from headwater.lanes.streaming.windows import WindowEmitter

        self.windows = WindowEmitter(self.platform, self.product) if self.spec.windows else None
        return state

    def _rebuild_dedupe(self, schema: pa.Schema) -> None:
        """Keys of committed rows within the window of the committed watermark, read from the
        snapshot's Parquet files with the event-time filter pushed into the row groups."""
        import pyarrow.dataset as ds

        cutoff = self.dedupe.cutoff(self.state.watermark_us)
        et = self.spec.event_time
        if any(c not in schema.names for c in self.dedupe.columns + [et]):
            return
        plan = self.lh.plan(self.name)
        if not plan.files:
            return
        dataset = ds.dataset(plan.files, format="parquet")
        wanted = list(dict.fromkeys(self.dedupe.columns + [et]))
        # pyiceberg writes "order id" as "order_x20id" (parquet_names.py)
        stored = {c: c if c in dataset.schema.names else physical_name(c) for c in wanted}
        where = None if cutoff is None else ds.field(stored[et]) >= pa.scalar(from_us(cutoff), TS)
        rows = dataset.to_table(columns={c: ds.field(stored[c]) for c in wanted}, filter=where)
        self.dedupe.load(self.dedupe.keys_of(rows), micros(rows.column(et).cast(TS)).tolist())

    def _quarantine_fence(self) -> dict[str, str] | None:
        if not self.lh.exists(self.quarantine_name):
            return None
        q = {}  # the newest quarantine commit made by this lane (the gate commits there too)
        for snap in reversed(self.lh.snapshots(self.quarantine_name)):
            if "headwater.stream.positions" in snap.summary:
                q = StreamState.from_summary(snap.summary).positions
                break
        ahead = any(position_key(v) > position_key(self.state.positions.get(p, "-1")) for p, v in q.items())
        return q if ahead else None

    # the loop ------------------------------------------------------------------
    def run(self, until_idle: float | None = None, max_events: int | None = None) -> RunStats:
        idle_since = time.monotonic()
        while max_events is None or self.stats.counts["rows_in"] < max_events:
            limit = self.spec.max_batch_rows
            if max_events is not None:
                limit = min(limit, max_events - self.stats.counts["rows_in"])
            chunks = self._collect(limit)
            if chunks:
                self._process(chunks)
                self.stats.busy_seconds += time.monotonic() - self._first
                idle_since = time.monotonic()
            else:
                self.watermarks.advance_idle()
                if self.windows is not None and self.watermarks.watermark != self.stats.watermark_us:
                    self._emit_windows([])
                if until_idle is not None and time.monotonic() - idle_since >= until_idle:
                    break
            if self.progress is not None:
                self.progress(self.stats)
        self.expire_snapshots()
        return self.stats

    def expire_snapshots(self) -> int:
        """Expire snapshots older than ``keep_snapshots`` before the newest, keeping at least
        ``retention.min_snapshots``; data files stay (every append's files remain live)."""
        keep = self.spec.keep_snapshots
        if keep is None or not self.lh.exists(self.name):
            return 0
        from datetime import timedelta

        from headwater.spec.types import parse_duration

        table = self.lh.load(self.name)
        stamps = sorted((s.timestamp_ms for s in table.snapshots()), reverse=True)
        floor = self.product.retention.min_snapshots
        if len(stamps) <= floor:
            return 0
        cutoff = min(stamps[0] - parse_duration(keep) // timedelta(milliseconds=1), stamps[floor - 1])
        doomed = sum(1 for t in stamps if t < cutoff)
        if doomed:
            table.maintenance.expire_snapshots().older_than(from_us(cutoff * 1000)).commit()
        return doomed

    def _collect(self, limit: int) -> list[Chunk]:
        chunks, rows, first, empty = [], 0, 0.0, 0
        fenced = self.reader.fence is not None
        while True:
            if chunks:
                positions = _merge([c.positions for c in chunks])
                if fenced:
                    if self.reader.fence_reached(positions):
                        return chunks
                elif rows >= limit or time.monotonic() - first >= self.spec.max_batch_seconds:
                    return chunks
                timeout = max(0.0, self.spec.max_batch_seconds - (time.monotonic() - first))
            else:
                timeout = min(self.spec.max_batch_seconds, IDLE_POLL_SECONDS)
            asked = time.monotonic()
            chunk = self.reader.read(max(1, limit - rows), timeout)
            if chunk is None:
                if not chunks:
                    return chunks
                if fenced:  # the records up to the fence must come back; wait, but not forever
                    empty += 1
                    if empty > FENCE_PATIENCE:
                        self.reader.set_fence(None)
                        return chunks
                continue
            if not chunks:  # the batch's clock starts before its first read and decode
                first, self._first = time.monotonic(), asked
            chunks.append(chunk)
            rows += len(chunk)

    def _process(self, chunks: list[Chunk]) -> None:
        spec, counts = self.spec, dict.fromkeys(COUNTERS, 0)
        skip_quarantine = self.reader.fence is not None
        self.reader.set_fence(None)
        table = pa.concat_tables([c.table for c in chunks], promote_options="permissive") \
            if len(chunks) > 1 else chunks[0].table
        partitions = [p for c in chunks for p in c.partitions]
        positions = {**self.state.positions, **_merge([c.positions for c in chunks])}
        counts["rows_in"] = table.num_rows
        table = align(table, self.reader.schema, spec.event_time)
        if spec.event_time not in table.column_names:
            table = table.append_column(spec.event_time, pa.nulls(table.num_rows, TS))
        valid = pc.is_valid(table.column(spec.event_time)).to_numpy(zero_copy_only=False)
        quarantine = []
        if not valid.all():
            counts["bad_event_time"] = int((~valid).sum())
            quarantine.append(_reason(table.filter(~valid), EVENT_TIME_RULE,
                                      f"missing or unreadable event time field {spec.event_time!r}"))
            table = table.filter(valid)
            partitions = [p for p, ok in zip(partitions, valid) if ok]
        if self.dedupe is not None and table.num_rows:  # copies of committed or earlier rows
            dup = self.dedupe.duplicates(self.dedupe.keys_of(table))
            if dup.any():
                counts["duplicates"] = int(dup.sum())
                table = table.filter(~dup)
                partitions = [p for p, d in zip(partitions, dup) if not d]
        ets = micros(table.column(spec.event_time)) if table.num_rows else np.zeros(0, "int64")
        watermark_before = self.watermarks.watermark
        late = self.watermarks.observe(partitions, ets) if len(ets) else np.zeros(0, bool)
        late_rows = table.filter(late) if late.any() else None
        candidates = table if spec.late_policy == "update" or late_rows is None else table.filter(~late)
        outcome = self.gate.apply(self.product, candidates, run_id=self.run_id, step_id=self.steps.step_id,
                                  source_position=position_label(positions))
        killpoints.reach("gate")
        if outcome.blocked:
            raise RunFailed(f"the contract blocked a micro-batch of {self.name!r}: {outcome.message}",
                            fix=f"see 'headwater contract check {self.name}'; nothing was committed or "
                                "acknowledged, so the records are read again after the fix")
        passed = outcome.passed
        if outcome.quarantined is not None and outcome.quarantined.num_rows:
            # the gate stores its own quarantined rows (idempotently, keyed by the positions)
            counts["gate_quarantined"] = outcome.quarantined.num_rows
        if self.dedupe is not None and passed.num_rows:  # duplicates are gone: remember the rest
            self.dedupe.remember(self.dedupe.keys_of(passed), micros(passed.column(spec.event_time)))
        if late_rows is not None:
            counts["late"] = late_rows.num_rows
            if spec.late_policy == "drop":
                counts["late_dropped"] = late_rows.num_rows
            elif spec.late_policy == "quarantine" and late_rows.num_rows:
                counts["late_quarantined"] = late_rows.num_rows
                quarantine.append(_reason(late_rows, LATE_RULE, "late: event time behind the watermark "
                                          f"{from_us(watermark_before).isoformat() if watermark_before else ''}"
                                          f" (allowed lateness {spec.allowed_lateness})"))
        if self.dedupe is not None:
            self.dedupe.evict(self.watermarks.watermark)
        late_days: list[str] = []
        if spec.late_policy == "update" and late.any():
            counts["late_updated"] = int(late.sum())
            late_days = sorted({d.isoformat() for d in pc.unique(
                table.filter(late).column(spec.event_time).cast(pa.date32())).to_pylist()})
        self._commit(passed, quarantine, positions, counts, late_days, skip_quarantine)

    def _commit(self, passed, quarantine, positions, counts, late_days, skip_quarantine) -> None:
        state = self.state
        state.positions = positions
        state.watermark_us = self.watermarks.watermark
        state.partition_max = dict(self.watermarks.partition_max)
        state.batch += 1
        for k, v in counts.items():
            if v:
                state.totals[k] = state.totals.get(k, 0) + v
        ids = {"run-id": self.run_id, "step-id": self.steps.step_id or ""}
        if quarantine and not skip_quarantine:
            rows = _with_meta(pa.concat_tables(quarantine, promote_options="permissive"), positions,
                              self.run_id, self.steps.step_id or "", self.platform.clock.now())
            self.lh.write(self.quarantine_name, rows, mode="append", partition_column="_hw_batch",
                          properties={**ids, **state.to_summary()})
            killpoints.reach("quarantine-commit")
        killpoints.reach("write")
        props = {**ids, **state.to_summary()}
        if late_days:
            props["stream.late-days"] = json.dumps(late_days)
        snap = self.lh.write(self.name, passed, mode="append", properties=props)
        killpoints.reach("committed")
        self.source.commit(positions)
        killpoints.reach("ack")
        if self.reader.schema is None or len(passed.schema) and not set(passed.schema.names) <= set(self.reader.schema.names):
            self.reader.schema = self.lh.load(self.name).schema().as_arrow()
        counts["written"] = passed.num_rows
        counts["batches"] = 1
        counts["bytes_written"] = int(snap.summary.get("added-files-size", 0) or 0)
        self.stats.snapshot_id = snap.snapshot_id
        self.stats.watermark_us = state.watermark_us
        if self.windows is not None:
            counts["windows_emitted"] = self._emit_windows(late_days)
        if state.batch % EXPIRE_EVERY_BATCHES == 0:
            self.expire_snapshots()
        for k, v in counts.items():
            self.stats.counts[k] += v
        self.steps.record(counts, {"snapshot_id": snap.snapshot_id, "positions": positions,
                                   "watermark": from_us(state.watermark_us).isoformat() if state.watermark_us else None,
                                   "watermark_dt": from_us(state.watermark_us),
                                   "dedupe_keys": len(self.dedupe) if self.dedupe else 0})

    def _emit_windows(self, late_days: list[str]) -> int:
        emitted = self.windows.emit(self.watermarks.watermark, late_days)
        killpoints.reach("window")
        self.stats.watermark_us = self.watermarks.watermark
        return emitted


def position_label(positions: dict[str, str]) -> str:
    """The batch's positions as a path-safe label (it becomes a quarantine partition value)."""
    safe = lambda text: re.sub(r"[^A-Za-z0-9._-]", "_", text)
    return "stream." + "..".join(f"{safe(p)}.{safe(v)}" for p, v in sorted(positions.items()))


def _merge(dicts: list[dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in dicts:
        out.update(d)
    return out


def _reason(table: pa.Table, rule: str, reason: str) -> pa.Table:
    n = table.num_rows
    return table.append_column("_hw_rules", pa.array([[rule]] * n, pa.list_(pa.string()))) \
        .append_column("_hw_reasons", pa.array([[reason]] * n, pa.list_(pa.string())))


def _with_meta(rows: pa.Table, positions: dict[str, str], run_id: str, step_id: str, now) -> pa.Table:
    """The quarantine columns the contracts package uses (headwater.contracts.quarantine.META)."""
    import hashlib

    where = json.dumps(positions, sort_keys=True)
    n, key = rows.num_rows, "stream-" + hashlib.sha1(where.encode()).hexdigest()[:16]  # path-safe
    meta = {"_hw_id": pa.array([f"{key}#{i}" for i in range(n)], pa.string()),
            "_hw_batch": pa.array([key] * n, pa.string()),
            "_hw_run_id": pa.array([run_id] * n, pa.string()),
            "_hw_step_id": pa.array([step_id] * n, pa.string()),
            "_hw_source_position": pa.array([where] * n, pa.string()),
            "_hw_contract_version": pa.nulls(n, pa.string()),  # the lane's own rules, not a contract's
            "_hw_quarantined_at": pa.array([now] * n, TS),
            "_hw_replay": pa.nulls(n, pa.string())}
    for name, values in meta.items():
        rows = rows.append_column(name, values)
    return rows
