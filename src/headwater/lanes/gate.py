"""The contract gate's interface, as every lane sees it.

Every lane calls ``ctx.gate.apply(...)`` on a batch before committing it: passing rows are
written, quarantined rows go to ``<product>__quarantine``, and a blocking failure commits
nothing. ``PassThroughGate`` is used for products without a contract. The contracts package
provides the real gate (headwater.contracts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from headwater.spec.project import AnyProduct

# Rules of the streaming lane itself, written to the same quarantine table as the gate's: an
# unreadable event time, an event behind the watermark. Replay leaves their rows alone (the
# lane refused them, not the contract): re-ingest them instead.
EVENT_TIME_RULE = "event_time"
LATE_RULE = "late"
LANE_RULES = (EVENT_TIME_RULE, LATE_RULE)


@dataclass
class GateOutcome:
    """The split of one batch: rows to write, rows to quarantine, and whether to stop."""

    passed: pa.Table
    quarantined: pa.Table | None = None
    blocked: bool = False
    message: str | None = None
    rule_failures: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_in(self) -> int:
        return self.passed.num_rows + (self.quarantined.num_rows if self.quarantined is not None else 0)


class Gate(Protocol):
    def apply(self, product: AnyProduct, batch: pa.Table, *, run_id: str, step_id: str,
              source_position: str | None = None) -> GateOutcome: ...


class PassThroughGate:
    """No contract: every row passes."""

    def apply(self, product, batch: pa.Table, *, run_id: str, step_id: str,
              source_position: str | None = None) -> GateOutcome:
        return GateOutcome(passed=batch)
