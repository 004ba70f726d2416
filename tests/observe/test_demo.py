"""The demo stage on the real e-commerce example: a healthy week, then planted trouble."""

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_planted_trouble_gives_the_right_breaches_one_grouped_incident_and_alerts(tmp_path):
    from headwater.observe.demo import stage
    from headwater.platform import Platform

    root = tmp_path / "shop"
    subprocess.run([sys.executable, "-m", "headwater.cli", "init", str(root), "--scale", "0.02"],
                   check=True, capture_output=True)
    out = stage(Platform(root), None)
    assert out["alerts_on_healthy_days"] == 0
    assert out["planted"]["orders_removed"] > 0 and out["planted"]["stock_rows_removed"] > 0
    breaches = dict(out["breaches"])
    orders = set(breaches.pop("stg_orders"))
    assert breaches == {"stg_suppliers": ["freshness"], "dim_products": ["freshness"],
                        "supplier_fill_rate": ["freshness"], "stg_inventory_snapshots": ["volume"]}
    # the empty partition: committed and incomplete, or (with the example's row_count contract)
    # blocked at the gate, so the scheduled run failed and the data went stale
    assert orders in ({"completeness", "volume"}, {"availability", "freshness"})
    assert out["budgets"]["stg_suppliers"]["freshness"] < 0
    assert min(out["budgets"]["stg_orders"].values()) < 0
    (supplier,) = [i for i in out["incidents"] if i["root"] == "raw_suppliers"]
    assert supplier["alerts"] == ["dim_products:freshness", "raw_suppliers:arrival", "stg_suppliers:freshness",
                                  "supplier_fill_rate:freshness"]
    assert {"stg_suppliers", "dim_products", "supplier_fill_rate"} <= set(supplier["affected"])
    assert supplier["severity"] == "page" and supplier["mttd_seconds"] == 3600
    assert "page stg_suppliers freshness (firing)" in out["alerts_sent"]
    assert any(a.startswith("page stg_orders ") for a in out["alerts_sent"])
    assert len(out["incidents"]) == 3  # suppliers, the empty orders partition, the stock volume drop
