"""Outcomes as data: each check's status, failure count and sample rows, and the run of them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from headwater.contracts.model import Severity
from headwater.contracts.plan import Check


class CheckStatus(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"     # failed, but the rule only warns
    ERROR = "error"       # could not be evaluated (the cause is in ``message``)
    SKIPPED = "skipped"   # not evaluated because the schema did not hold


@dataclass
class CheckResult:
    check: Check
    status: CheckStatus
    failed_rows: int = 0
    observed: Any = None
    message: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return self.status in (CheckStatus.FAILED, CheckStatus.WARNED, CheckStatus.ERROR)

    def to_dict(self) -> dict[str, Any]:
        return {**self.check.to_dict(), "status": self.status.value, "failed_rows": self.failed_rows,
                "observed": self.observed, "message": self.message or None, "samples": self.samples}


def status_for(check: Check, failed: bool) -> CheckStatus:
    if not failed:
        return CheckStatus.PASSED
    return CheckStatus.WARNED if check.severity is Severity.WARN else CheckStatus.FAILED


@dataclass
class CheckRun:
    """Every check of one contract over one batch or table."""

    product: str
    version: str
    rows: int
    results: list[CheckResult]
    snapshot_id: int | None = None  # the table snapshot checked (contract check)

    @property
    def blocking(self) -> list[CheckResult]:
        """Failed block rules, and any rule that could not be evaluated unless it only warns
        (a quarantine rule that cannot run must not let its rows through unchecked)."""
        return [r for r in self.results if (r.check.severity is Severity.BLOCK and r.status is CheckStatus.FAILED)
                or (r.status is CheckStatus.ERROR and r.check.severity is not Severity.WARN)]

    @property
    def passed(self) -> bool:
        return not any(r.status in (CheckStatus.FAILED, CheckStatus.ERROR) for r in self.results)

    def failures(self) -> dict[str, int]:
        return {r.check.id: r.failed_rows for r in self.results if r.failing}

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
        return {"product": self.product, "version": self.version, "snapshot_id": self.snapshot_id, "rows": self.rows,
                "passed": self.passed, "counts": counts, "checks": [r.to_dict() for r in self.results]}
