"""Anomalies with seasonality and robust statistics.

A value is compared with the history of the same metric in the same season: the same weekday
and hour when there are enough of those points, else the same weekday, else the same hour, else
all of it. The expected value is the median and the spread the MAD (scaled by 1.4826 so that it
estimates the standard deviation of normal data); the score is the robust z-score. Training
never sees the evaluated period itself, nor points marked as known outliers.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

MAD_TO_SIGMA = 1.4826
SEASONS: tuple[tuple[str, Callable[[datetime], tuple]], ...] = (
    ("weekday+hour", lambda t: (t.weekday(), t.hour)),
    ("weekday", lambda t: (t.weekday(),)),
    ("hour", lambda t: (t.hour,)),
    ("all", lambda t: ()),
)


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    ref: str | None = None  # e.g. the ledger step id, so a known outlier can be named


@dataclass
class Score:
    """How unusual one value is for its season."""

    metric: str
    at: datetime
    value: float
    expected: float | None
    spread: float | None
    score: float | None
    season: str | None
    training_points: int
    threshold: float
    ref: str | None = None
    excluded: list[str] = field(default_factory=list)

    @property
    def anomalous(self) -> bool:
        return self.score is not None and abs(self.score) > self.threshold

    @property
    def direction(self) -> str | None:
        if not self.anomalous:
            return None
        return "high" if self.score > 0 else "low"

    def to_dict(self) -> dict:
        return {"metric": self.metric, "at": self.at.isoformat(), "value": self.value,
                "expected": self.expected, "spread": self.spread,
                "score": None if self.score is None else round(self.score, 2), "season": self.season,
                "training_points": self.training_points, "threshold": self.threshold,
                "anomalous": self.anomalous, "direction": self.direction, "ref": self.ref}


def robust(values: list[float], relative_floor: float = 0.02, absolute_floor: float = 1e-9) -> tuple[float, float]:
    """(median, spread): spread is 1.4826 x MAD, floored so a flat history does not divide by zero."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return median, max(MAD_TO_SIGMA * mad, relative_floor * abs(median), absolute_floor)


def score(metric: str, history: Iterable[Point], point: Point, *, evaluated: tuple[datetime, datetime] | None = None,
          outliers: set[str] | None = None, threshold: float = 3.5, min_points: int = 4,
          relative_floor: float = 0.02, absolute_floor: float = 1e-9) -> Score:
    """Score ``point`` against ``history`` in its season.

    ``evaluated`` is the period under evaluation [start, end]: nothing from its start on is used
    for training (default: from the point itself on).
    ``outliers`` are refs of known outliers to leave out.
    """
    history = list(history)
    start = evaluated[0] if evaluated else point.at
    outliers = outliers or set()
    excluded = [p.ref or p.at.isoformat() for p in history if p.ref in outliers] if outliers else []
    training = [p for p in history
                if p.at < start and not (p.ref is not None and p.ref in outliers)]
    for season, key in SEASONS:
        same = [p.value for p in training if key(p.at) == key(point.at)]
        if len(same) >= min_points:
            expected, spread = robust(same, relative_floor, absolute_floor)
            return Score(metric, point.at, point.value, expected, spread, (point.value - expected) / spread,
                         season, len(same), threshold, point.ref, excluded)
    return Score(metric, point.at, point.value, None, None, None, None, len(training), threshold,
                 point.ref, excluded)
