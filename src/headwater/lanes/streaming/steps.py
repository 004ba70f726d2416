"""Ledger steps for a consumer that runs for hours: one step per interval, not per micro-batch.

A step covers the micro-batches committed in its interval (default 60 s, and the end of the
run). Its details carry the streaming SLIs (late and duplicate counts and rates, quarantined
rows, events/s, watermark, lag) and the gate counts that observe/ reads
(``details["gate"] = {passed, quarantined, filtered}``); ``data_time`` is the watermark.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.lanes.inputs import table_dataset
from headwater.ledger.openlineage import DatasetRef, JobRef, run_event
from headwater.ledger.store import StepMetrics

if TYPE_CHECKING:
    from headwater.platform import Platform

COUNTERS = ("rows_in", "written", "late", "late_dropped", "late_quarantined", "late_updated",
            "duplicates", "gate_quarantined", "bad_event_time", "batches", "bytes_written",
            "windows_emitted")


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def add(self, other: dict[str, int]) -> None:
        for k, v in other.items():
            if k in self.values:
                self.values[k] += int(v)

    def rates(self) -> dict[str, float]:
        n = self.values["rows_in"]
        return {"late_rate": round(self.values["late"] / n, 6) if n else 0.0,
                "duplicate_rate": round(self.values["duplicates"] / n, 6) if n else 0.0}


class StepRecorder:
    def __init__(self, platform: Platform, product, run_id: str, *, trigger: str = "cli",
                 interval_seconds: float = 60.0) -> None:
        self.platform = platform
        self.product = product
        self.run_id = run_id
        self.trigger = trigger
        self.interval = interval_seconds
        self.step_id: str | None = None
        self.counts = Counts()
        self.last: dict[str, Any] = {}
        self._opened = 0.0
        self._cpu0 = 0.0
        project = platform.project
        owners = [f"team:{product.owner.team}"] + [f"user:{p}" for p in product.owner.people]
        self.job = JobRef(f"headwater://{project.name}", product.name, owners=owners,
                          description=product.description or None, processing_type="STREAMING")
        self.dataset = table_dataset(platform.lakehouse, project.name, product.name)

    def open(self) -> str:
        ledger = self.platform.ledger
        self.step_id = ledger.queue_step(self.run_id, self.product.name, "streaming", None, self.trigger)
        started = ledger.start_step(self.step_id)
        self._emit(run_event("START", started, self.step_id, self.job, parent=self._parent()))
        self.counts = Counts()
        self._opened = time.monotonic()
        self._cpu0 = time.process_time()
        return self.step_id

    def record(self, counts: dict[str, int], last: dict[str, Any]) -> None:
        """Add one micro-batch; roll over to a new step when the interval has passed."""
        self.counts.add(counts)
        self.last.update(last)
        if time.monotonic() - self._opened >= self.interval:
            self.close("success")
            self.open()

    def close(self, status: str, error: str | None = None, fix: str | None = None) -> None:
        if self.step_id is None:
            return
        c = self.counts.values
        seconds = max(time.monotonic() - self._opened, 1e-9)
        details = {"stream": {**c, **self.counts.rates(),
                              "events_per_second": round(c["rows_in"] / seconds, 1),
                              "seconds": round(seconds, 3),
                              **{k: v for k, v in self.last.items() if k != "watermark_dt"}},
                   "gate": {"passed": c["written"], "quarantined": c["gate_quarantined"],
                            "filtered": c["duplicates"] + c["late_dropped"]}}
        if fix:
            details["fix"] = fix
        metrics = StepMetrics(rows_read=c["rows_in"], rows_written=c["written"],
                              bytes_written=c["bytes_written"],
                              cpu_seconds=round(time.process_time() - self._cpu0, 4),
                              output_snapshot_id=self.last.get("snapshot_id"),
                              data_time=self.last.get("watermark_dt"), details=details)
        finished = self.platform.ledger.finish_step(self.step_id, status, metrics, error=error)
        kind = "COMPLETE" if status == "success" else "FAIL"
        out = DatasetRef(**{**vars(self.dataset), "rows": c["written"], "bytes": c["bytes_written"]})
        self._emit(run_event(kind, finished, self.step_id, self.job, outputs=[out],
                             parent=self._parent(), error=error))
        self.step_id = None

    def _parent(self) -> tuple[str, str, str]:
        return (self.run_id, f"headwater://{self.platform.project.name}", "run")

    def _emit(self, event: dict) -> None:
        self.platform.ledger.record_event(event, origin="headwater")
