"""The demo's cost stage on the e-commerce example: every showback field, and the planted waste
found with its cost."""

from __future__ import annotations

import json

from tests.core.test_cli import hw

FIELDS = ("pipeline_id", "domain", "tier", "storage_gb", "compute_cpu_hours", "egress_gb",
          "read_volume_gb", "cost_per_1k_updates", "cost_per_run", "idle_hours", "retention_tier")


def test_demo_cost_stage_finds_the_planted_waste(tmp_path):
    out = json.loads(hw("demo", str(tmp_path / "shop"), "--scale", "0.02", "--stage", "build",
                        "--stage", "cost", "--json").stdout)
    build, cost = out["stages"]["build"], out["stages"]["cost"]
    assert build["status"] == "success"
    assert cost["planted_found"] == {"clickstream_vendor_export": True, "category_sales_daily": True,
                                     "line_price_history": True}
    for finding in cost["waste"]:
        if finding["product"] in cost["planted_found"]:
            assert finding["monthly_cost"] > 0
    lines = {line["pipeline_id"]: line for line in cost["showback"]}
    for field in FIELDS:
        assert all(line[field] is not None for line in lines.values() if line["runs"]), field
    assert lines["fct_daily_revenue"]["egress_gb"] > 0  # the dashboard's API reads
    assert abs(sum(cost["by_domain"].values()) - cost["total_30d"]) < 1e-9
    # the project is minutes old: the 30 days before it are nobody's, not spread over its products
    daily_control_plane = 60 / 30  # the default control_plane_per_month
    assert cost["total_30d"] < daily_control_plane
    assert cost["unattributed_30d"] > 29 * daily_control_plane
    budgets = {b["name"]: b for b in cost["budgets"]}
    assert max(budgets.values(), key=lambda b: b["forecast"] / b["budget"])["name"] == "marketing"  # the export
    assert {a["name"] for a in cost["budget_alerts"]} == {  # alerts follow the month's days left
        n for n, b in budgets.items() if max(b["actual"], b["forecast"]) >= 0.8 * b["budget"]}
