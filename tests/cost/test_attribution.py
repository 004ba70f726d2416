"""Attribution arithmetic on a real project: roll-ups add up, and each component traces to the
ledger, the Iceberg metadata or the files on disk."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from headwater.cost.attribution import GB, GROUPS

PERIOD = timedelta(days=30)


def _disk_bytes(platform, product: str) -> int:
    folder = Path(platform.lakehouse.warehouse) / platform.lakehouse.namespace / product
    return sum(f.stat().st_size for f in folder.rglob("*")
               if f.is_file() and not f.name.endswith(".metadata.json"))


@pytest.mark.parametrize("by", GROUPS)
def test_every_roll_up_sums_to_the_same_total(ran, by):
    by_product = ran.cost.showback("product", PERIOD)
    grouped = ran.cost.showback(by, PERIOD)
    assert grouped.total == pytest.approx(by_product.total, rel=1e-12)
    assert math.fsum(line.total_cost for line in grouped.lines) == pytest.approx(grouped.total, rel=1e-12)
    assert by_product.total > 0


def test_sums_by_domain_equal_the_products_of_each_domain(ran):
    products = ran.cost.showback("product", PERIOD).lines
    domains = {line.key: line for line in ran.cost.showback("domain", PERIOD).lines}
    assert set(domains) == {ran.project.products[p.key].domain for p in products}
    for domain, line in domains.items():
        mine = [p for p in products if p.domain == domain]
        assert line.total_cost == pytest.approx(math.fsum(p.total_cost for p in mine), rel=1e-12)
        assert line.runs == sum(p.runs for p in mine)
        assert line.rows_written == sum(p.rows_written for p in mine)
        assert line.cost_per_run == pytest.approx(line.total_cost / line.runs)


def test_each_line_is_the_sum_of_its_components(ran):
    for line in ran.cost.showback("product", PERIOD).lines:
        parts = [line.compute_cost, line.storage_cost, line.scan_cost, line.egress_cost,
                 line.run_cost, line.shared_cost]
        assert line.total_cost == pytest.approx(math.fsum(parts), rel=1e-12)
        assert line.cost_per_1k_updates == pytest.approx(line.total_cost / line.rows_written * 1000)


def test_compute_scan_and_runs_come_from_the_ledger(ran):
    rates = ran.project.config.cost.rates
    lines = {line.key: line for line in ran.cost.showback("product", PERIOD).lines}
    for name, line in lines.items():
        steps = ran.ledger.steps(product=name)
        assert line.runs == len(steps) == 3
        cpu_h = sum(s.cpu_seconds for s in steps) / 3600
        mem = sum(s.peak_memory_bytes / GB * (s.finished_at - s.started_at).total_seconds() / 3600
                  for s in steps)
        assert line.compute_cpu_hours == pytest.approx(cpu_h)
        assert line.compute_cost == pytest.approx(cpu_h * rates.cpu_hour + mem * rates.memory_gb_hour)
        assert line.scan_cost == pytest.approx(sum(s.bytes_read for s in steps) / GB * rates.scan_gb)
        assert line.run_cost == pytest.approx(3 * rates.per_run)
        assert line.rows_written == sum(s.rows_written for s in steps)


def test_shared_cost_follows_the_documented_rule(ran):
    """The project exists from its first step (all three products queued together): the window
    before it is unattributed, the rest is split half evenly and half by runs."""
    report = ran.cost.showback("product", PERIOD)
    lines = report.lines
    per_month = ran.project.config.cost.rates.control_plane_per_month
    born = min(s.queued_at for s in ran.ledger.steps())
    assert born > report.start
    pool = per_month * ((report.end - born) / timedelta(days=30))
    assert math.fsum(line.shared_cost for line in lines) == pytest.approx(pool)
    assert report.unattributed == pytest.approx(per_month * ((born - report.start) / timedelta(days=30)))
    assert report.unattributed + pool == pytest.approx(per_month * (PERIOD / timedelta(days=30)))
    runs = sum(line.runs for line in lines)
    for line in lines:
        assert line.shared_cost == pytest.approx(pool / 2 / len(lines) + pool / 2 * line.runs / runs)


def test_stored_bytes_are_the_files_on_disk(ran):
    """Every data, manifest and manifest-list file live snapshots reference, nothing else."""
    for line in ran.cost.showback("product", PERIOD).lines:
        assert line.storage_gb * GB == pytest.approx(_disk_bytes(ran, line.key), abs=0.5)
        assert 0 < line.history_gb < line.storage_gb  # three runs: history kept by retention


def test_reads_served_by_query_are_egress_of_the_product_read(ran):
    before = {line.key: line for line in ran.cost.showback("product", PERIOD).lines}
    served = ran.lakehouse.plan("daily_revenue").bytes
    ran.query("SELECT country, sum(revenue) FROM daily_revenue GROUP BY country")
    ran.clock.advance(timedelta(seconds=1))
    after = {line.key: line for line in ran.cost.showback("product", PERIOD).lines}
    assert (after["daily_revenue"].egress_gb - before["daily_revenue"].egress_gb) * GB \
        == pytest.approx(served)
    rate = ran.project.config.cost.rates.egress_gb
    assert after["daily_revenue"].egress_cost - before["daily_revenue"].egress_cost \
        == pytest.approx(served / GB * rate)
    assert after["stg_orders"].egress_gb == before["stg_orders"].egress_gb


def test_downstream_reads_are_the_input_snapshots_read(ran):
    """daily_revenue's steps read stg_orders and stg_customers at recorded snapshots."""
    lines = {line.key: line for line in ran.cost.showback("product", PERIOD).lines}
    for upstream in ("stg_orders", "stg_customers"):
        expected = sum(ran.lakehouse.plan(upstream, as_of=int(s.input_snapshots[upstream])).bytes
                       for s in ran.ledger.steps(product="daily_revenue"))
        assert lines[upstream].downstream_read_gb * GB == pytest.approx(expected)
    assert lines["daily_revenue"].downstream_read_gb == 0


def test_a_window_before_the_project_existed_charges_nobody(ran):
    """Its control plane is reported as unattributed, not charged to products that did not exist."""
    usage = ran.cost.usage()
    early = ran.cost.showback("product", timedelta(days=1), usage=usage,
                              end=usage.now - timedelta(days=2))
    assert all(line.runs == 0 and line.storage_cost == 0 and line.shared_cost == 0 for line in early.lines)
    assert early.total == 0
    assert early.unattributed == pytest.approx(ran.project.config.cost.rates.control_plane_per_month / 30)
    assert early.to_dict()["unattributed_cost"] == early.unattributed


def test_an_unknown_grouping_names_the_fix(ran):
    from headwater.errors import HeadwaterError

    with pytest.raises(HeadwaterError) as err:
        ran.cost.showback("team")
    assert "--by product|domain|tier|owner" in err.value.fix


def test_a_calendar_month_is_the_window_from_its_first_day(ran):
    from datetime import datetime, timezone

    month = ran.cost.showback("product", month="2026-03")
    assert month.start == datetime(2026, 3, 1, tzinfo=timezone.utc) and month.end == ran.clock.now()
    same = ran.cost.showback("product", month.end - month.start)
    assert month.total == pytest.approx(same.total, rel=1e-12)
    before = ran.cost.showback("product", month="2026-02")
    assert all(line.runs == 0 for line in before.lines) and before.end == datetime(2026, 3, 1, tzinfo=timezone.utc)
    from headwater.errors import HeadwaterError

    with pytest.raises(HeadwaterError):
        ran.cost.showback(month="March")
