"""The waste list on real run history: each finding appears for the planted cause, with its cost."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headwater.cost.attribution import GB, MONTH
from headwater.platform import Platform
from tests.cost.conftest import build
from tests.projects import MINI_FILES, leaf_product, write_files

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
OLD = {"runs": 4, "every": timedelta(days=11)}  # first run 44 days ago: older than the 30d window
# a leaf product the team adds to an old project: nobody reads it yet
EXPORT = leaf_product("orders_export", "SELECT order_id, amount FROM stg_orders\n")


def _findings(platform, kind, window=None):
    return {f.product: f for f in platform.cost.waste(window).findings if f.kind == kind}


def _born(platform, product):
    """When the ledger recorded the product's first step."""
    return min(step.queued_at for step in platform.ledger.steps(product=product))


def test_an_unread_table_without_readers_in_lineage_costs_its_whole_bill(tmp_path):
    ran = build(tmp_path / "mini", **OLD)
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
    platform = build(tmp_path / "mini", **OLD, **{"products/sales.yaml": OVER_TIERED})
    assert "daily_revenue" not in _findings(platform, "unread")


def test_a_product_younger_than_the_window_is_not_unread(ran):
    """daily_revenue first ran 12 hours ago: no read yet says nothing about 30 days without one."""
    age = ran.clock.now() - _born(ran, "daily_revenue")
    assert age < timedelta(days=1)
    assert _findings(ran, "unread") == {}
    assert "daily_revenue" not in _findings(ran, "unread", age + timedelta(seconds=1))
    assert "daily_revenue" in _findings(ran, "unread", age)  # unread for all the time it existed


def test_a_new_product_on_an_old_project_is_priced_over_its_own_life(tmp_path):
    old = build(tmp_path / "mini", **OLD)
    write_files(old.root, EXPORT)
    platform = Platform(old.root, clock=old.clock)  # the team adds orders_export, runs it daily
    for _ in range(3):
        platform.clock.advance(timedelta(days=1))
        assert platform.run(["orders_export"]).status == "success"
    assert set(_findings(platform, "unread")) == {"daily_revenue"}  # 47 days old; the export 2
    finding = _findings(platform, "unchanged")["orders_export"]
    assert finding.evidence["unchanged_runs"] == 2 and finding.evidence["runs"] == 3
    line = next(l for l in platform.cost.showback("product", timedelta(days=30)).lines
                if l.key == "orders_export")
    assert line.runs == 3
    per_run = (line.compute_cost + line.scan_cost + line.run_cost) / line.runs
    life = platform.clock.now() - _born(platform, "orders_export")
    assert life == timedelta(days=2) and finding.evidence["existed_days"] == 2
    # two wasted runs in its two days are 30 in a month, not two
    assert finding.monthly_cost == finding.savings_per_month \
        == pytest.approx(2 * per_run * (MONTH / life))
    assert finding.savings_per_month == pytest.approx(30 * per_run)


def test_runs_that_commit_the_same_content_are_found(ran):
    unchanged = _findings(ran, "unchanged")
    assert set(unchanged) == {"stg_customers"}  # customers.csv never changes; orders grow daily
    finding = unchanged["stg_customers"]
    assert finding.evidence["unchanged_runs"] == 2 and finding.evidence["runs"] == 3
    line = next(l for l in ran.cost.showback("product", timedelta(days=30)).lines
                if l.key == "stg_customers")
    per_run = (line.compute_cost + line.scan_cost + line.run_cost) / line.runs
    # it is 12 hours old: its cost so far counts as one day's, as budgets count it
    assert finding.evidence["existed_days"] < 1
    assert finding.savings_per_month == pytest.approx(2 * per_run * 30)


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


def test_a_read_seen_only_in_ingested_lineage_counts(tmp_path):
    """An Airflow job that read the table (an OpenLineage event ingested into the ledger) is a reader."""
    import uuid

    ran = build(tmp_path / "mini", **OLD)
    event = {"eventType": "COMPLETE", "eventTime": ran.clock.now().isoformat(),
             "producer": "https://github.com/apache/airflow", "run": {"runId": str(uuid.uuid4())},
             "job": {"namespace": "airflow://prod", "name": "finance_export.upload"},
             "inputs": [{"namespace": "file", "name": f"{ran.lakehouse.warehouse}/mini/daily_revenue"}],
             "outputs": []}
    assert "daily_revenue" in _findings(ran, "unread")
    assert ran.ledger.record_event(event, origin="ingest")
    ran.clock.advance(timedelta(seconds=1))
    assert "daily_revenue" not in _findings(ran, "unread")
