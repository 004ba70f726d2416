"""A mini project run several times in simulated time, with a cost model that prices everything."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from headwater.clock import FrozenClock
from headwater.platform import Platform
from tests.projects import mini_project, write_orders

COST_YAML = """
name: mini
cost:
  rates: {cpu_hour: 3.6, memory_gb_hour: 0.5, egress_gb: 100, scan_gb: 10, per_run: 0.01,
          control_plane_per_month: 30}
  budgets:
    domains: {sales: 2.0, finance: 50.0}
"""

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def build(root, runs: int = 3, every: timedelta = timedelta(hours=6), settings=None, **files):
    """A mini project run ``runs`` times, one more day of orders each time, the clock moving."""
    root = mini_project(root, **{"headwater.yaml": COST_YAML, **files})
    clock = FrozenClock(START)
    platform = Platform(root, clock=clock, settings=settings)
    for i in range(runs):
        write_orders(root, days=3 + i)
        clock.advance(every)
        result = platform.run()
        assert result.status == "success", [s.error for s in result.steps]
    clock.advance(timedelta(minutes=5))
    return platform


@pytest.fixture
def ran(tmp_path):
    return build(tmp_path / "mini")
