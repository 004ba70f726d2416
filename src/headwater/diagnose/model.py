"""Findings and the diagnosis report: data, never exceptions (see ``to_dict`` for the JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = ("late_upstream", "barrier_wait", "slow_step", "redundant_read", "contention", "ghost_sink",
         "monitoring_gap", "single_owner")
# Structural risks: how the pipeline is built, not what delayed this run. They carry no delay of
# their own (delay 0, cost None), so the minimum delay below does not apply to them.
RISK_KINDS = ("ghost_sink", "monitoring_gap", "single_owner")
MIN_DELAY = 60.0  # seconds: any other finding with less delay than this is noise


@dataclass
class Finding:
    kind: str
    culprit: str  # "<namespace>/<name>" of the dataset, job or datasource at fault
    evidence: dict[str, Any]
    delay_seconds: float
    confidence: float
    recommendation: str
    cost: float | None = None

    @property
    def score(self) -> float:
        return self.delay_seconds * self.confidence

    @property
    def is_risk(self) -> bool:
        return self.kind in RISK_KINDS

    @property
    def reportable(self) -> bool:
        """Worth reporting: a structural risk, or a delay of at least ``MIN_DELAY``."""
        return self.is_risk or self.delay_seconds >= MIN_DELAY

    def to_dict(self) -> dict:
        return {"kind": self.kind, "culprit": self.culprit, "evidence": _plain(self.evidence),
                "impact": {"delay_seconds": round(self.delay_seconds, 1),
                           "cost": None if self.cost is None else round(self.cost, 2)},
                "confidence": round(self.confidence, 2), "recommendation": self.recommendation}


@dataclass
class Diagnosis:
    target: str
    symptom: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # owners, cost rate: for rendering only

    def to_dict(self) -> dict:
        return {"target": self.target, "symptom": _plain(self.symptom),
                "findings": [f.to_dict() for f in self.findings]}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def hms(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    sign = "-" if seconds < 0 else ""
    return f"{sign}{h}h{m:02d}m" if h else f"{sign}{m}m{s:02d}s"
