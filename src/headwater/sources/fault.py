"""A fault-injecting source that ships in the package, for tests and the demo.

It wraps another source (``options.inner: {kind: inbox|redis|..., ...}``, or a source object
given in Python) or serves events from memory (``options.events``), and on demand:

    drop        probability that a record vanishes (as a lossy producer would lose it)
    duplicate   probability that a record is delivered twice (an at-least-once producer)
    reorder     shuffle each batch (out-of-order arrival)
    delay       seconds to sleep before each read (a slow broker)
    crash_on    {read: n, commit: n}: fail the n-th read or commit
    crash_mode  raise (InjectedFault, a TransientError) or kill (SIGKILL the process)
    seed        for repeatable faults

Positions are the wrapped source's, so exactly-once resumption still works through it.
"""

from __future__ import annotations

import os
import random
import signal
import time
from typing import Any

from headwater.errors import HeadwaterError, TransientError
from headwater.sources.base import Batch, Record, make_source


class InjectedFault(TransientError):
    """A failure the fault source was told to inject."""


class MemorySource:
    """Events held in memory; positions are 1-based indexes (one partition, ``0``)."""

    KIND = "memory"

    def __init__(self, events: list[Any] | None = None) -> None:
        self.events = list(events or [])
        self.offset = 0
        self.acknowledged = 0

    def append(self, events: list[Any]) -> None:
        self.events.extend(events)

    def seek(self, positions: dict[str, str]) -> None:
        self.offset = int(positions.get("0", 0))

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        chunk = self.events[self.offset:self.offset + max_records]
        if not chunk:
            time.sleep(min(timeout_seconds, 0.01))
            return Batch()
        records = [Record(v, str(self.offset + i + 1), "0") for i, v in enumerate(chunk)]
        self.offset += len(chunk)
        return Batch(records, {"0": records[-1].position})

    def commit(self, positions: dict[str, str]) -> None:
        self.acknowledged = max(self.acknowledged, int(positions.get("0", 0)))

    def lag(self) -> dict[str, Any]:
        return {"0": {"records": len(self.events) - self.offset}}

    def close(self) -> None:
        pass


class FaultSource:
    KIND = "fault"

    def __init__(self, source=None, *, options: dict[str, Any] | None = None, state_dir=None,
                 product: str = "headwater", **_spec: Any) -> None:
        options = dict(options or {})
        inner = options.pop("inner", None)
        events = options.pop("events", None)
        if source is None and inner is not None:
            inner = dict(inner)
            kind = inner.pop("kind")
            source = make_source(kind, state_dir=state_dir, product=product, **inner)
        self.source = source if source is not None else MemorySource(events)
        self.drop = float(options.pop("drop", 0.0))
        self.duplicate = float(options.pop("duplicate", 0.0))
        self.reorder = bool(options.pop("reorder", False))
        self.delay = float(options.pop("delay", 0.0))
        self.crash_on = dict(options.pop("crash_on", {}))
        self.crash_mode = options.pop("crash_mode", "raise")
        self.rng = random.Random(options.pop("seed", 0))
        if options:
            raise HeadwaterError(f"unknown fault options: {', '.join(sorted(options))}",
                                 fix="use inner, events, drop, duplicate, reorder, delay, crash_on, "
                                     "crash_mode, seed")
        self.calls = {"read": 0, "commit": 0}
        self.injected = {"dropped": 0, "duplicated": 0, "reordered_batches": 0, "crashes": 0}

    def _maybe_crash(self, what: str) -> None:
        self.calls[what] += 1
        if self.crash_on.get(what) == self.calls[what]:
            self.injected["crashes"] += 1
            if self.crash_mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise InjectedFault(f"injected crash on {what} #{self.calls[what]}",
                                fix="this is the fault source doing its job; run again to recover")

    def seek(self, positions: dict[str, str]) -> None:
        self.source.seek(positions)

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        if self.delay:
            time.sleep(self.delay)
        self._maybe_crash("read")
        batch = self.source.read(max_records, timeout_seconds)
        records: list[Record] = []
        for r in batch.records:
            if self.drop and self.rng.random() < self.drop:
                self.injected["dropped"] += 1
                continue
            records.append(r)
            if self.duplicate and self.rng.random() < self.duplicate:
                self.injected["duplicated"] += 1
                records.append(r)
        if self.reorder and len(records) > 1:
            self.rng.shuffle(records)
            self.injected["reordered_batches"] += 1
        return Batch(records, batch.positions)

    def commit(self, positions: dict[str, str]) -> None:
        self._maybe_crash("commit")
        self.source.commit(positions)

    def lag(self) -> dict[str, Any]:
        return self.source.lag()

    def close(self) -> None:
        self.source.close()
