"""What every lane shares: the context a step runs in, its result, and the lane registry.

A lane turns one product into one committed Iceberg snapshot (or a failed step that committed
nothing). Batch, streaming and CDC have the same shape: source -> gate -> engine -> commit.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from headwater.errors import HeadwaterError

if TYPE_CHECKING:
    from headwater.clock import Clock
    from headwater.engines.base import Engine
    from headwater.lanes.meter import ResourceMeter
    from headwater.ledger.store import Ledger
    from headwater.spec.project import AnyProduct, Project
    from headwater.storage.lakehouse import Lakehouse


class StepStatus(str, enum.Enum):
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepRequest:
    """What to do for one product in this run."""

    product: str
    partition: str | None = None
    full_refresh: bool = False
    trigger: str = "cli"


@dataclass
class StepContext:
    project: Project
    lakehouse: Lakehouse
    ledger: Ledger
    engine: Engine
    clock: Clock
    meter: ResourceMeter
    run_id: str
    step_id: str
    emit: Any  # callable(event dict) -> None: records an OpenLineage event
    gate: Any = None  # headwater.lanes.gate.Gate; None means PassThroughGate


@dataclass
class StepResult:
    product: str
    status: StepStatus
    step_id: str | None = None
    partition: str | None = None
    rows_read: int | None = None
    rows_written: int | None = None
    bytes_written: int | None = None
    snapshot_id: int | None = None
    seconds: float | None = None
    data_time: datetime | None = None
    error: str | None = None
    fix: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items()}
        out["status"] = self.status.value
        out["data_time"] = self.data_time.isoformat() if self.data_time else None
        return out


class Lane(Protocol):
    KIND: str

    def run_step(self, ctx: StepContext, product: AnyProduct, request: StepRequest) -> StepResult: ...


LANES: dict[str, str] = {"batch": "headwater.lanes.batch:BatchLane"}


def lane_for(kind: str) -> Lane:
    target = LANES.get(kind)
    if target is None:
        raise HeadwaterError(
            f"the {kind} lane does not run inside 'headwater run' in this version",
            fix=f"run {kind} products with their own command ('headwater stream run' / 'headwater cdc run')")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)()
