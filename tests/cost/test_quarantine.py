"""A product pays for the rows its contract quarantines: <product>__quarantine is stored with it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from headwater.clock import FrozenClock
from headwater.cost.attribution import GB
from headwater.platform import Platform
from tests.contracts.helpers import shop


def _disk(platform, table: str) -> int:
    folder = Path(platform.lakehouse.warehouse) / platform.lakehouse.namespace / table
    return sum(f.stat().st_size for f in folder.rglob("*")
               if f.is_file() and not f.name.endswith(".metadata.json"))


def test_quarantine_storage_is_priced_with_its_product(tmp_path):
    platform = Platform(shop(tmp_path / "shop"), clock=FrozenClock(datetime(2026, 1, 2, tzinfo=timezone.utc)))
    platform.run()
    assert platform.lakehouse.exists("stg_orders__quarantine")
    platform.clock.advance(timedelta(hours=1))
    lines = {line.key: line for line in platform.cost.showback("product", timedelta(days=30)).lines}
    assert set(lines) == {"stg_customers", "stg_orders", "order_totals"}  # not a product of its own
    expected = _disk(platform, "stg_orders") + _disk(platform, "stg_orders__quarantine")
    assert lines["stg_orders"].storage_gb * GB == pytest.approx(expected, abs=0.5)
    assert _disk(platform, "stg_orders__quarantine") > 0
