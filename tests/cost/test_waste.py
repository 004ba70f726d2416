"""The waste list on real run history: each finding appears for the planted cause, with its cost."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headwater.cost.attribution import GB
from tests.cost.conftest import build
from tests.projects import MINI_FILES

SALES = MINI_FILES["products/sales.yaml"]
OVER_TIERED = SALES.replace(
    "            tier: finance\n",
    "            tier: customer-facing\n"
    "            consumers: [{name: finance-dashboard, owner: cfo-office, reads: 1d}]\n")
LONG = SALES.replace(
    "            inputs: [raw_customers]\n",
    "            inputs: [raw_customers]\n            retention: {snapshots: 365d, min_snapshots: 10}\n")
SHORT = SALES.replace(
    "            primary_key: [order_id]\n",
    "            primary_key: [order_id]\n            retention: {snapshots: 1h, min_snapshots: 1}\n")


def _findings(platform, kind):
    return {f.product: f for f in platform.cost.waste().findings if f.kind == kind}


def test_an_unread_table_without_readers_in_lineage_costs_its_whole_bill(ran):
    unread = _findings(ran, "unread")
    assert set(unread) == {"daily_revenue"}  # the staging tables are read by daily_revenue
    line = next(l for l in ran.cost.showback("product", timedelta(days=30)).lines
                if l.key == "daily_revenue")
    assert unread["daily_revenue"].monthly_cost == pytest.approx(line.total_cost)
    assert unread["daily_revenue"].savings_per_month == pytest.approx(line.total_cost - line.shared_cost)
    assert 0 < unread["daily_revenue"].savings_per_month < unread["daily_revenue"].monthly_cost

    ran.query("SELECT count(*) FROM daily_revenue")
    ran.clock.advance(timedelta(seconds=1))
    assert _findings(ran, "unread") == {}


def test_a_declared_consumer_means_not_waste(tmp_path):
    platform = build(tmp_path / "mini", runs=1, **{"products/sales.yaml": OVER_TIERED})
    assert "daily_revenue" not in _findings(platform, "unread")


def test_runs_that_commit_the_same_content_are_found(ran):
    unchanged = _findings(ran, "unchanged")
    assert set(unchanged) == {"stg_customers"}  # customers.csv never changes; orders grow daily
    finding = unchanged["stg_customers"]
    assert finding.evidence["unchanged_runs"] == 2 and finding.evidence["runs"] == 3
    line = next(l for l in ran.cost.showback("product", timedelta(days=30)).lines
                if l.key == "stg_customers")
    per_run = (line.compute_cost + line.scan_cost + line.run_cost) / line.runs
    assert finding.savings_per_month == pytest.approx(2 * per_run)


def test_a_real_time_tier_read_daily_is_over_tiered(tmp_path):
    platform = build(tmp_path / "mini", runs=2, **{"products/sales.yaml": OVER_TIERED})
    finding = _findings(platform, "over_tiered")["daily_revenue"]
    assert finding.evidence["suggested_tier"] == "finance"
    assert finding.evidence["promised"] == "15m" and finding.evidence["consumed"] == "1d"
    line = next(l for l in platform.cost.showback("product", timedelta(days=30)).lines
                if l.key == "daily_revenue")
    per_run = (line.compute_cost + line.scan_cost + line.run_cost) / line.runs
    assert finding.monthly_cost == pytest.approx(per_run * 30 * 96)
    assert finding.savings_per_month == pytest.approx(per_run * (30 * 96 - 30))


def test_history_beyond_retention_costs_what_retention_would_free(tmp_path):
    platform = build(tmp_path / "mini", runs=3, **{"products/sales.yaml": SHORT})
    platform.clock.advance(timedelta(hours=2))
    finding = _findings(platform, "beyond_retention")["stg_orders"]
    plan = platform.cost.retention_plan(["stg_orders"]).products[0]
    assert finding.evidence["bytes"] == plan.bytes > 0
    assert finding.monthly_cost == pytest.approx(plan.monthly_cost)
    platform.cost.retention_apply(["stg_orders"])
    assert "stg_orders" not in _findings(platform, "beyond_retention")


def test_long_retention_is_priced_from_the_history_it_keeps(tmp_path):
    platform = build(tmp_path / "mini", runs=3, **{"products/sales.yaml": LONG})
    finding = _findings(platform, "long_retention")["stg_customers"]
    cost = platform.project.config.cost
    files = platform.cost.usage().tables["stg_customers"]
    assert files.history_bytes > files.current_bytes
    tier = cost.retention_tier(timedelta(days=365))
    history_cost = files.history_bytes / GB * cost.storage_classes[tier.storage_class]
    assert finding.monthly_cost == pytest.approx(history_cost)
    kept = 30 / 365 * files.history_bytes / GB * cost.storage_classes["hot"]
    assert finding.savings_per_month == pytest.approx(history_cost - kept)
    assert "long_retention" not in {f.kind for f in platform.cost.waste().findings
                                    if f.product != "stg_customers"}


def test_long_retention_in_use_by_time_travel_is_not_waste(tmp_path):
    platform = build(tmp_path / "mini", runs=3, **{"products/sales.yaml": LONG})
    oldest = platform.lakehouse.snapshots("stg_customers")[0].snapshot_id
    platform.query("SELECT count(*) FROM stg_customers", as_of=str(oldest))
    platform.clock.advance(timedelta(seconds=1))
    assert "stg_customers" not in _findings(platform, "long_retention")


def test_a_downstream_freshness_override_keeps_its_inputs_fast(tmp_path):
    """daily_revenue promises 30m by SLO override, so its hourly-tier inputs are not over-tiered."""
    fast = SALES.replace("            tier: finance\n",
                         "            tier: finance\n            slo: {freshness: 30m}\n")
    platform = build(tmp_path / "mini", runs=2, **{"products/sales.yaml": fast})
    assert _findings(platform, "over_tiered") == {}
    slow = build(tmp_path / "slow", runs=2)
    assert set(_findings(slow, "over_tiered")) == {"stg_orders", "stg_customers"}


def test_a_read_seen_only_in_ingested_lineage_counts(ran):
    """An Airflow job that read the table (an OpenLineage event ingested into the ledger) is a reader."""
    import uuid

    event = {"eventType": "COMPLETE", "eventTime": ran.clock.now().isoformat(),
             "producer": "https://github.com/apache/airflow", "run": {"runId": str(uuid.uuid4())},
             "job": {"namespace": "airflow://prod", "name": "finance_export.upload"},
             "inputs": [{"namespace": "file", "name": f"{ran.lakehouse.warehouse}/mini/daily_revenue"}],
             "outputs": []}
    assert "daily_revenue" in _findings(ran, "unread")
    assert ran.ledger.record_event(event, origin="ingest")
    ran.clock.advance(timedelta(seconds=1))
    assert "daily_revenue" not in _findings(ran, "unread")
