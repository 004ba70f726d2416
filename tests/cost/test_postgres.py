"""Cost on a shared deployment: ledger and Iceberg catalog in a real PostgreSQL (the cost branch of
the migrations, read accounting, remembered alerts, retention through the SQL catalog)."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from headwater.ledger import migrate
from headwater.settings import Settings
from tests.cost.conftest import build
from tests.cost.test_retention import SHORT, _disk


@pytest.fixture
def on_pg(tmp_path, fresh_pg_database):
    return build(tmp_path / "mini", settings=Settings(ledger_url=fresh_pg_database,
                                                      catalog_url=fresh_pg_database),
                 **{"products/sales.yaml": SHORT})


def test_showback_budgets_and_retention_on_postgresql(on_pg):
    assert migrate.current_heads(on_pg.ledger.engine) == migrate.expected_heads()
    served = on_pg.lakehouse.plan("daily_revenue").bytes
    on_pg.query("SELECT count(*) FROM daily_revenue")
    on_pg.clock.advance(timedelta(hours=2))

    products = on_pg.cost.showback("product", timedelta(days=30))
    domains = on_pg.cost.showback("domain", timedelta(days=30))
    assert math.fsum(l.total_cost for l in domains.lines) == pytest.approx(products.total, rel=1e-12)
    line = next(l for l in products.lines if l.key == "daily_revenue")
    assert line.egress_gb * 1024 ** 3 == pytest.approx(served)

    first = on_pg.cost.budgets(sinks=[])
    assert first.alerts and on_pg.cost.budgets(sinks=[]).alerts == []

    plan = on_pg.cost.retention_plan(["stg_orders"])
    before = sum(_disk(on_pg, "stg_orders").values())
    done = on_pg.cost.retention_apply(["stg_orders"])
    assert done.freed_bytes == plan.bytes == before - sum(_disk(on_pg, "stg_orders").values()) > 0
    assert Path(on_pg.lakehouse.plan("stg_orders").files[0]).exists()
