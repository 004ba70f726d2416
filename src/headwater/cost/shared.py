"""The shared-cost rule: who pays for the control plane over a window, and what nobody pays.

The control plane costs ``control_plane_per_month`` pro rata to time. A product pays for the
part of a window after it came to exist (``Usage.first_seen``), never before: the window is cut
where a product appears, and each piece is split among the products that existed throughout it,
half evenly (each occupies the catalog and the ledger, whether it runs or not) and half by share
of the steps queued in that piece (the control plane's work is per run); a piece in which none of
them ran is split evenly. A piece in which no declared product existed yet is **unattributed**: it
stays visible in the report instead of being charged to products that did not exist, and
``sum(by_product) + unattributed == pool``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

MONTH = timedelta(days=30)


@dataclass(frozen=True)
class SharedSplit:
    by_product: dict[str, float]
    unattributed: float
    pool: float  # control_plane_per_month x window / 30 days


def split_shared(names: Iterable[str], first_seen: dict[str, datetime], steps, start: datetime,
                 end: datetime, per_month: float) -> SharedSplit:
    """Split the control plane of ``[start, end)`` among ``names``; ``steps`` are those queued in
    the window (``start < queued_at <= end``)."""
    names = sorted(names)
    cuts = sorted({start, end} | {t for n, t in first_seen.items() if n in names and start < t < end})
    by_product = {n: 0.0 for n in names}
    pieces, unattributed = [], []
    for a, b in pairwise(cuts):
        pool = per_month * ((b - a) / MONTH)
        pieces.append(pool)
        alive = [n for n in names if n in first_seen and first_seen[n] <= a]
        if not alive:
            unattributed.append(pool)
            continue
        # a step at a cut belongs to the piece it opens (its product exists from there on), and
        # the window's last instant to the last piece
        runs = {n: 0 for n in alive}
        for step in steps:
            if step.product in runs and (a <= step.queued_at < b or step.queued_at == b == end):
                runs[step.product] += 1
        total_runs = sum(runs.values())
        for n in alive:
            if total_runs:
                by_product[n] += pool / 2 / len(alive) + pool / 2 * runs[n] / total_runs
            else:
                by_product[n] += pool / len(alive)
    return SharedSplit(by_product, math.fsum(unattributed), math.fsum(pieces))
