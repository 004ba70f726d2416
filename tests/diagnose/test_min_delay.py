"""The minimum delay: a finding under a minute of delay is dropped, whatever its kind; the structural
risks (no delay of their own) are reported, as risks, without a delay."""

from __future__ import annotations

import pytest

from headwater.diagnose.model import MIN_DELAY, RISK_KINDS
from tests.diagnose.fixtures.make import BAD_DAY, Scenario, ds


def _contention_off_the_critical_path() -> Scenario:
    """etl_orders runs twice as long while an export hammers the same database, but orders_mart
    waits for load_customers (03:00) anyway: the contention cost the target nothing."""
    s = Scenario("contention_off_path")
    db = "postgres://prod-db:5432"
    src, items = ds(db, "shop.public.orders", 20_000_000, datasource=db), ds(db, "shop.public.items", datasource=db)
    extract, customers = ds("s3://lake", "raw/orders_extract", 6_000_000), ds("s3://lake", "raw/customers", 1_000)
    for day in range(BAD_DAY + 1):
        bad = day == BAD_DAY
        s.run(day, "etl_orders", "02:00", "02:50" if bad else "02:25", inputs=[src], outputs=[extract],
              owners=["team:data"])
        s.run(day, "load_customers", "02:00", "03:00", outputs=[customers], owners=["team:crm"])
        s.run(day, "orders_mart", "03:01", "03:11", inputs=[extract, customers],
              outputs=[ds("s3://lake", "marts/orders")], owners=["team:data"])
        s.run(day, "analytics_export", "02:05" if bad else "14:00", "03:05" if bad else "14:30", inputs=[items],
              outputs=[ds("s3://adhoc", "export.parquet")], owners=["team:analytics"])
    return s


def _redundant_read_without_byte_counts() -> Scenario:
    """sessionize re-reads the raw clicks, but no run reports sizes: no delay can be put on it."""
    s = Scenario("redundant_read_no_bytes")
    raw, stg = ds("s3://raw", "clickstream"), ds("s3://lake", "stg/clicks")
    for day in range(BAD_DAY + 1):
        s.run(day, "land_clicks", "00:10", "00:30", outputs=[raw], owners=["team:web"])
        s.run(day, "stg_clicks", "00:31", "00:51", inputs=[raw], outputs=[stg], owners=["team:data"])
        s.run(day, "sessionize", "00:52", "01:32", inputs=[stg, raw], outputs=[ds("s3://lake", "marts/sessions")],
              owners=["team:data"])
    return s


@pytest.fixture
def ingested(tmp_path):
    from headwater.platform import Platform
    from tests.projects import mini_project

    def load(build) -> Platform:
        scenario = build()
        platform = Platform(mini_project(tmp_path / scenario.name))
        result = platform.lineage.ingest(scenario.events)
        assert result.rejected == [] and result.stored == len(scenario.events)
        return platform

    return load


@pytest.mark.parametrize(("build", "target", "kind"), [
    pytest.param(_contention_off_the_critical_path, "airflow://prod/orders_mart", "contention",
                 id="contention-off-the-critical-path"),
    pytest.param(_redundant_read_without_byte_counts, "airflow://prod/sessionize", "redundant_read",
                 id="redundant-read-without-byte-counts"),
])
def test_a_finding_under_a_minute_of_delay_is_dropped(ingested, build, target, kind):
    report = ingested(build).diagnosis.diagnose(target).to_dict()
    assert kind not in {f["kind"] for f in report["findings"]}
    for f in report["findings"]:
        assert f["kind"] in RISK_KINDS or f["impact"]["delay_seconds"] >= MIN_DELAY, f


def test_structural_risks_are_reported_without_a_delay(scenario):
    from headwater.diagnose.render import render

    report = scenario("late_supplier").diagnosis.diagnose("airflow://prod/supplier_report")
    risks = [f for f in report.findings if f.kind in RISK_KINDS]
    assert {f.kind for f in risks} == {"monitoring_gap", "single_owner"}
    assert all(f.delay_seconds == 0 and f.cost is None for f in risks)
    assert report.findings[-len(risks):] == risks  # ranked after every delay
    headings = [line for line in render(report, "engineer") if line.startswith("\n[bold]")]
    assert len(headings) == len(report.findings)
    for line, f in zip(headings, report.findings):
        assert ("structural risk" in line) == (f.kind in RISK_KINDS)
        assert "delay 0m00s" not in line
