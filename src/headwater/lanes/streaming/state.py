"""The lane's state, and how it rides in the Iceberg snapshot summary of each micro-batch.

Everything needed to resume exactly where the last commit left off is in that commit's summary:
the source positions, the watermark, the newest event time per source partition, the batch
number and running counts. The dedupe state is *derived* from the committed table: the keys of
the rows whose event time is within the dedupe window of the committed watermark. It is evicted
with the same rule at the end of every batch, so the state rebuilt after a crash equals the state
at the commit (durable, bounded, and consistent by construction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from headwater.arrays import sorted_unique
from headwater.clock import Clock
from headwater.spec.types import parse_duration

KEY = "stream."
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_us(when: datetime) -> int:
    return (when - EPOCH) // timedelta(microseconds=1)


def from_us(us: int | None) -> datetime | None:
    return None if us is None else EPOCH + timedelta(microseconds=int(us))


def position_key(position: str) -> tuple[int, ...]:
    """Positions compare in order: inbox offsets, NATS/Kafka sequences, Redis ids ('ms-seq')."""
    try:
        return tuple(int(p) for p in position.split("-"))
    except ValueError:
        return (0,)


@dataclass
class StreamState:
    positions: dict[str, str] = field(default_factory=dict)
    watermark_us: int | None = None
    partition_max: dict[str, int] = field(default_factory=dict)
    batch: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_summary(cls, summary: dict[str, str]) -> StreamState:
        get = lambda k, d: summary.get("headwater." + KEY + k, d)
        wm = get("watermark-us", "")
        return cls(json.loads(get("positions", "{}")), int(wm) if wm else None,
                   {k: int(v) for k, v in json.loads(get("partition-max", "{}")).items()},
                   int(get("batch", "0")), json.loads(get("totals", "{}")))

    def to_summary(self) -> dict[str, str]:
        return {KEY + "positions": json.dumps(self.positions, sort_keys=True),
                KEY + "watermark-us": "" if self.watermark_us is None else str(self.watermark_us),
                KEY + "watermark": from_us(self.watermark_us).isoformat() if self.watermark_us else "",
                KEY + "partition-max": json.dumps(self.partition_max, sort_keys=True),
                KEY + "batch": str(self.batch),
                KEY + "totals": json.dumps(self.totals, sort_keys=True)}


class Watermarks:
    """Watermark = min over active partitions of (newest event time - allowed lateness).

    It advances record by record, so whether a record is late does not depend on how records
    were cut into batches. A partition not heard from for ``idle_timeout`` (on the injected
    clock) stops holding the watermark back. The watermark never goes backwards.
    """

    def __init__(self, lateness: timedelta, idle_timeout: timedelta, clock: Clock,
                 partition_max: dict[str, int], watermark_us: int | None) -> None:
        self.lateness = parse_duration(lateness) // timedelta(microseconds=1)
        self.idle = parse_duration(idle_timeout)
        self.clock = clock
        self.partition_max = dict(partition_max)
        now = clock.now()
        self.last_seen = {p: now for p in partition_max}
        self.watermark = watermark_us

    def _global(self, exclude: str | None = None) -> int | None:
        now = self.clock.now()
        active = [m for p, m in self.partition_max.items()
                  if p != exclude and now - self.last_seen[p] <= self.idle]
        pool = active or ([m for p, m in self.partition_max.items() if p != exclude] if exclude is None
                          else [])
        return min(pool) - self.lateness if pool else None

    def advance_idle(self) -> None:
        """Re-evaluate the watermark as partitions go idle (called when no records arrive)."""
        candidate = self._global()
        if candidate is not None and (self.watermark is None or candidate > self.watermark):
            self.watermark = candidate

    def observe(self, partitions: list[str], ets: np.ndarray) -> np.ndarray:
        """Mark each record late (behind the watermark before it) and advance the watermark."""
        late = np.zeros(len(ets), dtype=bool)
        now = self.clock.now()
        new: set[str] = set()
        for p in set(partitions):
            self.last_seen[p] = now
        for p, et in zip(partitions, ets.tolist()):  # a partition holds the watermark from its
            if p not in self.partition_max or et < self.partition_max[p] and p in new:  # first record
                self.partition_max[p] = et
                new.add(p)
        if len(set(partitions)) == 1:
            return self._observe_one(partitions[0], ets)
        wm = self.watermark
        if new:
            candidate = self._global()
            wm = candidate if candidate is not None and (wm is None or candidate > wm) else wm
        for i, (p, et) in enumerate(zip(partitions, ets.tolist())):
            if wm is not None and et < wm:
                late[i] = True
            if et > self.partition_max.get(p, et - 1):
                self.partition_max[p] = et
                candidate = self._global()
                if candidate is not None and (wm is None or candidate > wm):
                    wm = candidate
        self.watermark = wm
        return late

    def _observe_one(self, p: str, ets: np.ndarray) -> np.ndarray:
        others = self._global(exclude=p)
        start = self.partition_max.get(p)
        running = np.maximum.accumulate(ets)
        if start is not None:
            running = np.maximum(running, start)
        before = np.empty_like(ets)
        before[0] = start if start is not None else np.iinfo(np.int64).min + self.lateness
        before[1:] = running[:-1]
        wm_before = before - self.lateness
        if others is not None:
            wm_before = np.minimum(wm_before, others)
        if self.watermark is not None:
            wm_before = np.maximum(wm_before, self.watermark)
        late = ets < wm_before
        if start is None:
            late[0] = self.watermark is not None and ets[0] < self.watermark
        self.partition_max[p] = int(running[-1])
        candidate = self._global()
        if candidate is not None and (self.watermark is None or candidate > self.watermark):
            self.watermark = candidate
        return late


class DedupeState:
    """Keys first seen within ``window`` of the watermark; older keys are evicted.

    Keys are kept in time buckets of 1/256 of the window; a bucket is evicted whole once it
    lies entirely before ``watermark - window``. ``cutoff`` (the bucket floor) is the exact rule
    the restart uses to rebuild the same state from the table.
    """

    BUCKETS = 256

    def __init__(self, columns: list[str], window: timedelta) -> None:
        self.columns = columns
        self.window = parse_duration(window) // timedelta(microseconds=1)
        self.bucket = max(1, self.window // self.BUCKETS)
        self.seen: dict[Any, int] = {}
        self._buckets: dict[int, list] = {}

    def __len__(self) -> int:
        return len(self.seen)

    def keys_of(self, table) -> list:
        cols = [table.column(c).to_pylist() for c in self.columns]
        return cols[0] if len(cols) == 1 else list(zip(*cols))

    def duplicates(self, keys: list) -> np.ndarray:
        """True for a row whose key is remembered or repeated earlier in the batch (nothing added)."""
        n = len(keys)
        out = np.fromiter(map(self.seen.__contains__, keys), dtype=bool, count=n)
        local: set = set()
        if len(local.union(keys)) != n:  # repeats within the batch: all but the first are duplicates
            add = local.add
            local.clear()
            out |= np.fromiter([k in local or add(k) or False for k in keys], dtype=bool, count=n)
        return out

    def remember(self, keys: list, ets: np.ndarray) -> None:
        """Remember keys (unique, not yet seen) with their event times."""
        if not len(keys):
            return
        self.seen.update(zip(keys, ets.tolist()))
        buckets = ets // self.bucket
        lo, hi = int(buckets.min()), int(buckets.max())
        if lo == hi:
            self._buckets.setdefault(lo, []).extend(keys)
            return
        for b in sorted_unique(buckets).tolist():
            mask = buckets == b
            self._buckets.setdefault(b, []).extend(k for k, m in zip(keys, mask) if m)

    def contains(self, keys: list) -> np.ndarray:
        return np.fromiter(map(self.seen.__contains__, keys), dtype=bool, count=len(keys))

    def cutoff(self, watermark_us: int | None) -> int | None:
        """Keys with event time at or after this are kept (the floor of watermark - window)."""
        if watermark_us is None:
            return None
        return ((watermark_us - self.window) // self.bucket) * self.bucket

    def evict(self, watermark_us: int | None) -> int:
        cutoff = self.cutoff(watermark_us)
        if cutoff is None:
            return 0
        evicted = 0
        for b in [b for b in self._buckets if (b + 1) * self.bucket <= cutoff]:
            for key in self._buckets.pop(b):
                if self.seen.pop(key, None) is not None:
                    evicted += 1
        return evicted

    def load(self, keys: list, ets: Iterable[int]) -> None:
        ets = np.asarray(list(ets), dtype="int64")
        if len(ets):
            fresh = ~self.contains(keys)
            keys = [k for k, f in zip(keys, fresh) if f]
            self.remember(keys, ets[fresh])
