"""Every finding kind, on scenarios written as OpenLineage event files (tests/diagnose/fixtures)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from headwater.diagnose.model import KINDS
from tests.diagnose.fixtures.make import BAD_DAY, DAY0, SCENARIOS

BAD = DAY0 + timedelta(days=BAD_DAY)


def _t(hhmm: str) -> str:
    return (BAD + timedelta(hours=int(hhmm[:2]), minutes=int(hhmm[3:]))).isoformat().replace("+00:00", "Z")


def _by_kind(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["kind"], []).append(f)
    return out


def test_fixture_files_are_what_the_generator_writes(tmp_path, monkeypatch):
    from tests.diagnose.fixtures import make

    monkeypatch.setattr(make, "HERE", tmp_path)
    for build in SCENARIOS:
        written = build().write()
        committed = make.Path(__file__).parent / "fixtures" / written.name
        assert written.read_text() == committed.read_text(), f"regenerate {written.name}"


def test_late_supplier_feed_is_traced_to_the_feed_with_a_what_if(scenario):
    platform = scenario("late_supplier")
    report = platform.diagnosis.diagnose("airflow://prod/supplier_report", cost_per_hour=600).to_dict()
    assert set(report) == {"target", "symptom", "findings"}
    assert report["target"] == "airflow://prod/supplier_report"
    symptom = report["symptom"]
    assert symptom["ready_at"] == _t("05:40") and symptom["usual_ready_at"] == _t("01:40")
    assert symptom["late_by_seconds"] == 4 * 3600
    top = report["findings"][0]
    assert top["kind"] == "late_upstream" and top["culprit"] == "s3://raw/suppliers.csv"
    ev = top["evidence"]
    assert ev["arrived_at"] == _t("05:10") and ev["others_ready_by"] == _t("01:05")
    assert ev["delivered_by"] == "sftp://partners/land_suppliers"
    assert [h["job"] for h in ev["critical_path"]] == ["airflow://prod/supplier_report", "airflow://prod/stg_suppliers",
                                                       "airflow://prod/land_suppliers".replace("airflow://prod", "sftp://partners")]
    report_hop = ev["critical_path"][0]
    assert report_hop["waiting_for_inputs_seconds"] == (5 * 60 + 20 - (60 + 10)) * 60  # 01:10 -> 05:20
    assert report_hop["queue_seconds"] == 60 and report_hop["running_seconds"] == 19 * 60
    # with the feed at 01:05: stg_suppliers 01:07-01:15 (its 2m queue, 8m run), the report 01:16-01:35
    assert ev["what_if"]["target_ready_at"] == _t("01:35")
    assert top["impact"]["delay_seconds"] == (5 * 60 + 40 - (60 + 35)) * 60
    assert top["impact"]["cost"] == pytest.approx(top["impact"]["delay_seconds"] / 3600 * 600)
    assert "01:35" in top["recommendation"] and top["confidence"] >= 0.8
    kinds = _by_kind(report)
    barrier = kinds["barrier_wait"][0]
    assert barrier["culprit"] == "airflow://prod/supplier_report"
    assert barrier["evidence"]["ready_early"] == 2 and barrier["evidence"]["inputs"] == 3
    assert [g["culprit"] for g in kinds["monitoring_gap"]] == ["sftp://partners/land_suppliers"]
    assert kinds["monitoring_gap"][0]["evidence"]["missing"] == ["owner"]
    assert [s["culprit"] for s in kinds["single_owner"]] == ["airflow://prod/supplier_report"]
    assert kinds["single_owner"][0]["evidence"]["person"] == "mateo"


def test_an_ordinary_day_has_no_timing_findings(scenario):
    platform = scenario("late_supplier")
    day_before = (BAD - timedelta(hours=12))
    report = platform.diagnosis.diagnose("airflow://prod/supplier_report", at=day_before).to_dict()
    assert report["symptom"]["ready_at"] == (BAD - timedelta(days=1) + timedelta(hours=1, minutes=40)
                                             ).isoformat().replace("+00:00", "Z")
    assert not {"late_upstream", "barrier_wait", "slow_step", "contention"} & set(_by_kind(report))


def test_slow_step_against_its_baseline_through_job_dependencies(scenario):
    platform = scenario("slow_step")
    report = platform.diagnosis.diagnose("airflow://prod/daily_mart").to_dict()
    kinds = _by_kind(report)
    slow = kinds["slow_step"][0]
    assert report["findings"][0] is slow or report["findings"][0] == slow
    assert slow["culprit"] == "airflow://prod/transform_facts"
    assert slow["evidence"]["duration_seconds"] == 70 * 60 and slow["evidence"]["baseline_seconds"] == 10 * 60
    assert slow["impact"]["delay_seconds"] == 60 * 60
    assert "late_upstream" not in kinds


def test_contention_on_a_shared_datasource(scenario):
    platform = scenario("contention")
    report = platform.diagnosis.diagnose("airflow://prod/orders_mart").to_dict()
    kinds = _by_kind(report)
    found = kinds["contention"][0]
    assert found["culprit"] == "postgres://prod-db:5432"
    ev = found["evidence"]
    assert ev["job"] == "airflow://prod/etl_orders" and ev["inflation"] == 2.0
    [other] = ev["overlapping_runs"]
    assert other["job"] == "airflow://analytics/analytics_export" and other["inflated"]
    assert other["overlap_seconds"] == 45 * 60  # 02:05 to 02:50
    assert found["impact"]["delay_seconds"] == 25 * 60
    assert "slow_step" not in kinds  # the slowness is explained by the contention


def test_redundant_read_with_io_amplification(scenario):
    platform = scenario("redundant_read")
    report = platform.diagnosis.diagnose("airflow://prod/sessionize").to_dict()
    kinds = _by_kind(report)
    found = kinds["redundant_read"][0]
    assert found["culprit"] == "airflow://prod/sessionize"
    ev = found["evidence"]
    assert ev["raw_dataset"] == "s3://raw/clickstream" and ev["could_read"] == "s3://lake/stg/clicks"
    assert ev["already_read_by"] == "airflow://prod/stg_clicks"
    assert ev["io_amplification"] == 20.0 and ev["times_raw_read_in_this_run_dag"] == 2
    assert "barrier_wait" not in kinds  # raw clicks feed stg/clicks: a dependency, not a barrier


def test_ghost_sink(scenario):
    platform = scenario("ghost_sink")
    report = platform.diagnosis.diagnose("airflow://prod/train_churn").to_dict()
    [ghost] = _by_kind(report)["ghost_sink"]
    assert ghost["culprit"] == "s3://lake/debug/feature_dump"
    assert ghost["evidence"]["writes"] == BAD_DAY + 1
    assert ghost["evidence"]["bytes_written"] == 900_000_000 * (BAD_DAY + 1)


def test_every_kind_is_exercised_by_some_scenario(scenario):
    seen = set()
    for name, target in [("late_supplier", "airflow://prod/supplier_report"), ("slow_step", "airflow://prod/daily_mart"),
                         ("contention", "airflow://prod/orders_mart"), ("redundant_read", "airflow://prod/sessionize"),
                         ("ghost_sink", "airflow://prod/train_churn")]:
        report = scenario(name).diagnosis.diagnose(target).to_dict()
        json.dumps(report)  # the report is plain JSON
        for f in report["findings"]:
            assert set(f) == {"kind", "culprit", "evidence", "impact", "confidence", "recommendation"}
            assert set(f["impact"]) == {"delay_seconds", "cost"} and 0 <= f["confidence"] <= 1
        seen |= {f["kind"] for f in report["findings"]}
    assert seen == set(KINDS)


def test_unknown_targets_and_runs_are_errors_with_a_fix(scenario):
    from headwater.errors import NotFoundError

    platform = scenario("ghost_sink")
    with pytest.raises(NotFoundError):
        platform.diagnosis.diagnose("airflow://prod/nothing")
    with pytest.raises(NotFoundError) as info:
        platform.diagnosis.diagnose("airflow://prod/train_churn", run="no-such-run")
    assert info.value.fix
    with pytest.raises(NotFoundError):
        platform.diagnosis.diagnose("airflow://prod/train_churn", at=datetime(2000, 1, 1, tzinfo=DAY0.tzinfo))


def test_three_audiences(scenario):
    from headwater.diagnose.render import render

    platform = scenario("late_supplier")
    report = platform.diagnosis.diagnose("airflow://prod/supplier_report", cost_per_hour=600)
    engineer, manager, executive = (render(report, a) for a in ("engineer", "manager", "executive"))
    assert any("what_if" in line for line in engineer) and any("hop " in line for line in engineer)
    assert any(line.startswith("Next steps") for line in manager)
    assert any("owner: user:mateo" in line for line in manager)
    [paragraph] = executive
    cost = report.findings[0].cost
    assert f"{cost:,.0f}" in paragraph and "s3://raw/suppliers.csv" in paragraph and "Risks remain" in paragraph


def test_cost_of_delay_per_product_then_tier(tmp_path):
    from headwater.platform import Platform
    from tests.projects import MINI_FILES, mini_project

    files = dict(MINI_FILES)
    files["headwater.yaml"] = "name: mini\ntiers:\n  ops: {freshness: 1h, completeness: 0.99, availability: 0.99, cost_of_delay_per_hour: 321}\n"
    files["products/sales.yaml"] = MINI_FILES["products/sales.yaml"].replace(
        "            tier: finance\n", "            tier: finance\n            cost: {cost_of_delay_per_hour: 2500}\n")
    platform = Platform(mini_project(tmp_path / "p", **files))
    graph = platform.lineage.graph()
    rate = {name: platform.diagnosis.cost_per_hour(graph.get(f"job:headwater://mini:{name}"))
            for name in ("daily_revenue", "stg_orders")}
    assert rate == {"daily_revenue": 2500.0, "stg_orders": 321.0}
    assert platform.diagnosis.cost_per_hour(graph.get("dataset:headwater://mini:raw_orders")) == 0.0


def test_diagnosis_and_impact_over_http(scenario):
    from fastapi.testclient import TestClient

    from headwater.server.app import create_app

    platform = scenario("late_supplier")
    with TestClient(create_app(platform)) as client:
        over_http = client.get("/api/v1/diagnosis", params={"target": "airflow://prod/supplier_report",
                                                             "cost_per_hour": 600}).json()
        assert over_http == json.loads(json.dumps(platform.diagnosis.diagnose(
            "airflow://prod/supplier_report", cost_per_hour=600).to_dict()))
        assert client.get("/api/v1/diagnosis", params={"target": "nowhere/none"}).status_code == 404
        assert client.get("/api/v1/diagnosis", params={"target": "airflow://prod/supplier_report",
                                                       "at": "soon"}).status_code == 400
        impact = client.get("/api/v1/impact", params={"target": "s3://raw/suppliers.csv"}).json()
        assert {j["name"] for j in impact["jobs"]} == {"stg_suppliers", "supplier_report"}


def test_the_same_night_with_times_in_mixed_offsets_gives_the_same_diagnosis(tmp_path, scenario):
    from headwater.ledger.openlineage import parse_time
    from headwater.platform import Platform
    from tests.diagnose.conftest import FIXTURES
    from tests.projects import mini_project

    events = [json.loads(line) for line in (FIXTURES / "late_supplier.jsonl").read_text().splitlines()]
    for n, e in enumerate(events):  # a mix of offsets, as producers in several regions send
        offset = timezone(timedelta(hours=(2, -5, 9)[n % 3]))
        e["eventTime"] = parse_time(e["eventTime"]).astimezone(offset).isoformat()
    shifted = Platform(mini_project(tmp_path / "shifted"))
    assert shifted.lineage.ingest(events).stored == len(events)
    original = scenario("late_supplier")

    def summary(platform):
        report = platform.diagnosis.diagnose("airflow://prod/supplier_report").to_dict()
        return [(f["kind"], f["culprit"], f["impact"]["delay_seconds"]) for f in report["findings"]]

    assert summary(shifted) == summary(original)
