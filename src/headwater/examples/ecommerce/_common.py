"""What every part of the generator shares: sizes per scale, the time window, random streams and
the record of planted bad data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from headwater.examples.ecommerce._io import US_PER_DAY

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# One key per random stream. Each table (and each chunk of a chunked table) draws from its own
# stream, so adding a column to one table never changes the values of another.
SUPPLIERS, PRODUCTS, PRICES, CUSTOMERS, DAYS, ORDERS, INVENTORY, PURCHASES, CLICKS = range(1, 10)

# Share of orders per hour of the day (UTC): quiet nights, a lunch bump, an evening peak.
_HOURLY = np.array([2, 1, 1, 1, 1, 2, 3, 5, 6, 6, 7, 8, 9, 8, 7, 7, 7, 8, 9, 10, 10, 9, 6, 4],
                   dtype=float)
HOUR_P = _HOURLY / _HOURLY.sum()


def stream(seed: int, key: int, *more: int) -> np.random.Generator:
    """An independent, reproducible random stream for (seed, table key, chunk...)."""
    return np.random.default_rng([seed, key, *more])


@dataclass(frozen=True)
class Sizes:
    """Row targets for a scale: scale 1 is about 100k orders; dimensions grow slower or cap."""

    orders: int
    customers: int
    products: int
    suppliers: int
    click_events: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        orders = max(200, round(100_000 * scale))
        return cls(
            orders=orders,
            customers=max(100, round(20_000 * scale)),
            # A catalogue does not grow with traffic for ever; 50k products is a big shop.
            products=min(50_000, max(50, round(2_000 * scale))),
            suppliers=min(1_000, max(5, round(100 * scale))),
            # Five events per order, capped at 10M so scale 100 stays well under 10 GB of JSON.
            click_events=min(5 * orders, 10_000_000),
        )


@dataclass(frozen=True)
class Window:
    """The days the data covers: ``days`` days ending at ``end_date`` (inclusive), in UTC."""

    end_date: date
    days: int = 90

    @property
    def start_day(self) -> int:
        """First day, as days since 1970-01-01."""
        return self.end_date.toordinal() - _EPOCH_ORDINAL - self.days + 1

    @property
    def start_us(self) -> int:
        return self.start_day * US_PER_DAY

    @property
    def end_us(self) -> int:
        """Exclusive end: midnight after ``end_date``; nothing generated is at or after it."""
        return (self.start_day + self.days) * US_PER_DAY

    def day_weights(self, rng: np.random.Generator) -> np.ndarray:
        """Share of activity per day: slow growth, busier weekends, noise and two promo days."""
        t = np.arange(self.days)
        weekday = (self.start_day + t + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        w = (1.0 + 0.25 * t / self.days) * np.where(weekday >= 5, 1.15, 1.0)
        w *= rng.lognormal(0.0, 0.05, self.days)
        w[rng.choice(self.days, size=min(2, self.days), replace=False)] *= 1.8
        return w / w.sum()


def day_chunks(counts: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Group consecutive days into [first, stop) ranges holding at most ``limit`` rows each
    (a single day larger than the limit gets a chunk of its own)."""
    chunks: list[tuple[int, int]] = []
    first, total = 0, 0
    for day, n in enumerate(counts.tolist()):
        if total and total + n > limit:
            chunks.append((first, day))
            first, total = day, 0
        total += n
    chunks.append((first, len(counts)))
    return chunks


def n_planted(rate: float, rows: int) -> int:
    """How many bad rows to plant: ``rate`` of the rows, at least one, never more than exist."""
    return min(rows, max(1, round(rate * rows))) if rows else 0


@dataclass
class Planted:
    """Ground truth of the bad data planted on purpose, collected chunk by chunk."""

    sections: dict[str, dict] = field(default_factory=dict)

    def add(self, kind: str, file: str, description: str, **ids: np.ndarray) -> None:
        """Record ``len(first id list)`` more bad rows of ``kind`` in ``file``."""
        section = self.sections.setdefault(
            kind, {"file": file, "description": description, "count": 0,
                   **{name: [] for name in ids}})
        section["count"] += len(next(iter(ids.values())))
        for name, values in ids.items():
            section[name].extend(np.asarray(values).tolist())
