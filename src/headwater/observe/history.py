"""A product's ledger history as it stood at one instant, and the readers every SLI shares."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from headwater.observe.burn import Budget, BurnRule


class Status(str, enum.Enum):
    OK = "ok"
    BREACHED = "breached"
    ANOMALOUS = "anomalous"
    NO_DATA = "no_data"


@dataclass
class StepView:
    """One ledger step as seen at the evaluation time (a step finished later is still running)."""

    step_id: str
    product: str
    status: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows_written: int | None
    bytes_written: int | None
    data_time: datetime | None
    input_snapshots: dict
    output_snapshot_id: int | None
    partition: str | None
    details: dict
    lane: str | None = None
    rows_read: int | None = None

    @classmethod
    def of(cls, row, at: datetime) -> StepView:
        done = row.finished_at is not None and row.finished_at <= at
        return cls(row.step_id, row.product, row.status if done else "running", row.queued_at,
                   row.started_at if row.started_at and row.started_at <= at else None,
                   row.finished_at if done else None, row.rows_written, row.bytes_written,
                   row.data_time, row.input_snapshots or {}, row.output_snapshot_id, row.partition,
                   row.details or {}, row.lane, row.rows_read)

    @property
    def idle(self) -> bool:
        """A streaming or CDC step that received nothing new: its source was quiet in the step's
        interval, or sent only what the lane drops by design (duplicates within the dedupe window,
        changes re-delivered after a restart, late events under ``late_policy: drop``), so nothing
        can have been lost. A batch run's input is the files it was meant to find: a batch run
        with zero rows is never idle."""
        if self.lane not in ("streaming", "cdc") or self.rows_read is None:
            return False
        counts = gate_counts(self.details)
        return self.rows_read - (counts[2] if counts is not None else 0) <= 0


@dataclass
class History:
    product: str
    at: datetime
    steps: list[StepView]  # oldest first

    @classmethod
    def load(cls, ledger, product: str, at: datetime) -> History:
        rows = [r for r in ledger.steps(product=product) if r.queued_at <= at]
        return cls(product, at, [StepView.of(r, at) for r in reversed(rows)])

    @property
    def successes(self) -> list[StepView]:
        return sorted((s for s in self.steps if s.status == "success"), key=lambda s: s.finished_at)

    @property
    def since(self) -> datetime | None:
        return self.steps[0].queued_at if self.steps else None


@dataclass
class SliResult:
    """One SLI of one product at one instant: its value, objective and, if budgeted, its budget."""

    name: str
    status: Status
    value: float | None
    unit: str
    objective: str | None = None
    target: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    budget: Budget | None = None
    burn: dict[str, float | None] = field(default_factory=dict)
    firing: list[BurnRule] = field(default_factory=list)
    bad_since: datetime | None = None

    def to_dict(self) -> dict:
        b = self.budget
        return {"sli": self.name, "status": self.status.value,
                "value": _round(self.value), "unit": self.unit, "objective": self.objective,
                "target": self.target,
                "budget": None if b is None else {
                    "window": b.window.total_seconds(), "sli": _round(b.sli), "bad": _round(b.bad),
                    "total": _round(b.total), "consumed": _round(b.consumed), "left": _round(b.left)},
                "burn_rates": {k: _round(v) for k, v in self.burn.items()},
                "firing": [{"severity": r.severity, "rule": r.name} for r in self.firing],
                "bad_since": self.bad_since.isoformat() if self.bad_since else None,
                "detail": self.detail}


def _round(value: float | None) -> float | None:
    if value is None or value in (float("inf"), float("-inf")):
        return value
    return round(value, 6)


def gate_counts(details: dict, contract_only: bool = False) -> tuple[int, int, int] | None:
    """(passed, quarantined, filtered) rows recorded for a step, or None.

    Read from the contract gate's ``details["contract"]`` (``passed``, ``quarantined``; also
    ``details["gate"]``, ``rows_in``, ``rows_quarantined``, per-rule counts) and, unless ``contract_only``, from
    the lane's row conservation ``details["conservation"]`` (``written``, ``quarantined``,
    ``filtered_by_transform``): in = out + quarantined + filtered.
    """
    conservation = details.get("conservation")
    if not contract_only and isinstance(conservation, dict) and conservation.get("written") is not None:
        return (int(conservation["written"]), int(conservation.get("quarantined") or 0),
                int(conservation.get("filtered_by_transform") or 0))
    for key in ("gate", "contract"):
        gate = details.get(key)
        if isinstance(gate, dict):
            q = gate.get("quarantined", gate.get("rows_quarantined"))
            if isinstance(q, dict):  # per-rule counts
                q = sum(int(v) for v in q.values())
            passed = gate.get("passed", gate.get("rows_passed"))
            if passed is None and gate.get("rows_in") is not None and q is not None:
                passed = int(gate["rows_in"]) - int(q)
            if q is not None and passed is not None:
                return int(passed), int(q), int(gate.get("filtered", 0) or 0)
    return None
