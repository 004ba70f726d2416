"""The cost and retention commands as a user types them (real process, real project)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from tests.core.test_cli import hw


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from tests.cost.conftest import build

    return build(tmp_path_factory.mktemp("cost-cli") / "mini").root


def _disk(root: Path) -> int:
    return sum(f.stat().st_size for f in (root / ".headwater/warehouse").rglob("*") if f.is_file())


def test_showback_json_csv_and_table(project):
    p = ["--project", str(project)]
    by_domain = json.loads(hw("cost", "--by", "domain", "--period", "400d", "--json", *p).stdout)
    by_product = json.loads(hw("cost", "--period", "400d", "--json", *p).stdout)
    # the real clock moves between the two commands: the window slides over the project's birth,
    # moving control plane from unattributed to the products; their sum is the window's pool
    assert math.isclose(by_domain["total_cost"] + by_domain["unattributed_cost"],
                        by_product["total_cost"] + by_product["unattributed_cost"], rel_tol=1e-12)
    assert by_product["unattributed_cost"] > 0  # the project is younger than 400 days
    assert math.isclose(sum(l["total_cost"] for l in by_domain["lines"]), by_domain["total_cost"], rel_tol=1e-12)
    rows = list(csv.DictReader(io.StringIO(hw("cost", "--period", "400d", "--csv", *p).stdout)))
    assert {r["pipeline_id"] for r in rows} == {"stg_orders", "stg_customers", "daily_revenue"}
    for field in ("domain", "tier", "storage_gb", "compute_cpu_hours", "egress_gb", "read_volume_gb",
                  "cost_per_1k_updates", "cost_per_run", "idle_hours", "retention_tier"):
        assert all(r[field] != "" for r in rows), field
    assert "daily_revenue" in hw("cost", *p).stdout


def test_trend_waste_budgets_json(project):
    p = ["--project", str(project)]
    trend = json.loads(hw("cost", "trend", "--period", "400d", "--bucket", "100d", "--json", *p).stdout)
    assert len(trend["buckets"]) == 4 and set(trend["series"]) == {"stg_orders", "stg_customers", "daily_revenue"}
    # the runs were months ago in real time: the project is older than a 30-day window
    waste = json.loads(hw("cost", "waste", "--unread", "30d", "--json", *p).stdout)
    assert "unread" in {f["kind"] for f in waste["findings"]}
    budgets = json.loads(hw("cost", "budgets", "--no-send", "--json", *p).stdout)
    assert {b["name"] for b in budgets["budgets"]} == {"sales", "finance"}
    assert not (project / ".headwater/alerts.jsonl").exists()  # --no-send sends nothing


def test_retention_apply_is_a_dry_run_without_yes(project):
    p = ["--project", str(project)]
    plan = json.loads(hw("retention", "plan", "--json", *p).stdout)
    assert plan["applied"] is False and plan["bytes"] > 0  # the runs were months ago in real time
    before = _disk(project)
    dry = json.loads(hw("retention", "apply", "--json", *p).stdout)
    assert dry["applied"] is False and _disk(project) == before
    done = json.loads(hw("retention", "apply", "--yes", "--json", *p).stdout)
    assert done["applied"] is True and done["freed_bytes"] == plan["bytes"]
    assert before - _disk(project) <= plan["bytes"]  # the expiry commit writes new metadata.json
    assert json.loads(hw("retention", "plan", "--json", *p).stdout)["bytes"] == 0


def test_errors_name_the_fix(project):
    proc = hw("cost", "--by", "team", "--project", str(project), ok=False)
    assert proc.returncode == 1 and "--by product|domain|tier|owner" in proc.stderr
    proc = hw("cost", "--period", "soon", "--project", str(project), ok=False)
    assert proc.returncode == 1 and "fix:" in proc.stderr
