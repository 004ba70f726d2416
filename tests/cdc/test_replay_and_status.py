"""cdc replay skips other tables and names bad lines; status lag; option bounds; readable output."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.clock import FrozenClock
from headwater.errors import HeadwaterError
from tests.cdc.helpers import FLINK, cdc_project, mirror_rows

LOG = FLINK / "debezium-postgres-data-schema-exclude.txt"  # inventory.products, 16 changes
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _event(table: str, key: int, op: str = "c", seconds: int = 0) -> dict:
    ts = int((T0 + timedelta(seconds=seconds)).timestamp() * 1000)
    return {"before": None, "after": {"id": key, "name": f"{table}-{key}"}, "op": op, "ts_ms": ts,
            "source": {"connector": "postgresql", "db": "shop", "schema": "inventory", "table": table,
                       "ts_ms": ts}, "transaction": None}


def _log(path, events) -> str:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return str(path)


def _said(out) -> str:
    return out.output + (str(out.exception) if out.exception else "")


def test_replay_skips_counts_and_reports_events_of_other_tables(tmp_path):
    platform = cdc_project(tmp_path / "p", url=str(LOG))
    assert platform.cdc.run("products_mirror", until_idle=0).changes == 16
    before = mirror_rows(platform)
    snap = platform.lakehouse.current("products_mirror").snapshot_id
    other = _log(tmp_path / "payments.jsonl", [_event("payments", i) for i in range(1, 6)])
    out = CliRunner().invoke(app, ["cdc", "replay", other, "--product", "products_mirror",
                                   "-p", str(tmp_path / "p")])
    assert out.exit_code == 0, _said(out)
    assert "0 changes in 0 commits" in out.output
    assert "skipped 5 events: other table inventory.payments" in out.output
    assert "no event of products_mirror's table was read" in out.output
    assert mirror_rows(platform) == before  # nothing of payments reached the products mirror
    assert platform.lakehouse.current("products_mirror").snapshot_id == snap  # no empty commit
    # the configured source resumes where it was: nothing is applied twice
    assert platform.cdc.run("products_mirror", until_idle=0).changes == 0


def test_a_replayed_log_does_not_make_the_configured_source_start_over(tmp_path):
    """A log replayed between two runs commits under its own source; the next run of the product's
    source goes on from its own last position instead of reading every change again."""
    platform = cdc_project(tmp_path / "p", url=str(LOG))
    assert platform.cdc.run("products_mirror", until_idle=0).changes == 16
    last = json.loads(LOG.read_text().splitlines()[-1])
    added = {**last, "op": "c", "before": None, "after": {**(last["after"] or last["before"]), "id": 500},
             "source": {**last["source"], "lsn": last["source"]["lsn"] + 1}}
    extra = _log(tmp_path / "extra.jsonl", [added])
    assert platform.cdc.replay(extra, "products_mirror").changes == 1
    summary = platform.lakehouse.current("products_mirror").summary
    assert summary["headwater.cdc.source"] != f"debezium:{LOG}"  # the replay's own source is current
    again = platform.cdc.run("products_mirror", until_idle=0)
    assert again.status == "success" and again.changes == 0 and again.batches == 0
    assert 500 in [r["id"] for r in mirror_rows(platform)]  # and the replayed change stays


def test_replay_of_a_mixed_log_applies_only_the_products_table(tmp_path):
    platform = cdc_project(tmp_path / "p", url="unused.jsonl")
    mixed = _log(tmp_path / "mixed.jsonl", [_event("products", 1), _event("payments", 2),
                                            _event("products", 3), _event("payments", 4)])
    result = platform.cdc.replay(mixed, "products_mirror")
    assert result.status == "success", result.error
    assert [r["id"] for r in mirror_rows(platform)] == [1, 3]
    assert result.skipped == {"other table inventory.payments": 2}


def test_replay_of_a_file_that_is_not_json_lines_names_the_file_and_line(tmp_path):
    project = tmp_path / "p"
    cdc_project(project, url="unused.jsonl")
    notes = tmp_path / "notes.md"
    notes.write_text("\n# Change data capture\n\nsome prose\n")
    out = CliRunner().invoke(app, ["cdc", "replay", str(notes), "--product", "products_mirror",
                                   "-p", str(project)])
    assert out.exit_code == 1
    assert f"{notes}, line 2: not JSON" in out.output and "unexpected" not in out.output
    assert "fix: a Debezium change log holds one JSON event per line" in out.output


def test_a_json_value_that_is_not_an_event_names_its_line(tmp_path):
    platform = cdc_project(tmp_path / "p", url="unused.jsonl")
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(_event("products", 1)) + "\n42\n")
    result = platform.cdc.replay(log, "products_mirror")
    assert result.status == "failed" and result.error == f"{log}, line 2: a JSON int, not an event object"


def test_status_lag_before_the_first_run_is_now_minus_the_oldest_pending_commit(tmp_path):
    log = _log(tmp_path / "log.jsonl", [{"status": "BEGIN", "id": "1"}, _event("payments", 9, seconds=5),
                                        _event("products", 1, seconds=10), _event("products", 2, seconds=20)])
    platform = cdc_project(tmp_path / "p", url=log)
    platform.clock = FrozenClock(T0 + timedelta(seconds=100))  # its own clock: the system clock is shared
    [status] = platform.cdc.status()
    assert status.lag_records == 4
    assert status.lag_seconds == 90.0  # the oldest change of this table, not 0 and not another table's
    platform.cdc.run("products_mirror", until_idle=0)
    [status] = platform.cdc.status()
    assert status.lag_records == 0 and status.lag_seconds == 0.0


def test_lag_seconds_rules():
    from headwater.lanes.cdc.service import _lag_seconds

    now = T0 + timedelta(seconds=60)
    # the source knows the oldest pending commit
    assert _lag_seconds({"0": {"records": 3, "oldest_commit_ts": T0}}, 3, None, None, now) == 60.0
    # PostgreSQL: WAL pending, but none of this table: no lag
    assert _lag_seconds({"slot": {"bytes": 900, "oldest_commit_ts": None}}, None, 900, None, now) == 0.0
    # a carrier with events pending and no commit times: bounded by the last applied commit, or unknown
    assert _lag_seconds({"0": {"bytes": 900}}, None, 900, T0 + timedelta(seconds=30), now) == 30.0
    assert _lag_seconds({"0": {"bytes": 900}}, None, 900, None, now) is None
    assert _lag_seconds({"0": {"bytes": 0}}, None, 0, None, now) == 0.0


@pytest.mark.parametrize("args", [["run", "products_mirror", "--max-batch", "0", "--until-idle", "0"],
                                  ["run", "products_mirror", "--max-batch", "-5", "--until-idle", "0"],
                                  ["run", "products_mirror", "--until-idle", "-1"],
                                  ["replay", str(LOG), "--product", "products_mirror", "--max-batch", "0"]],
                         ids=["run-max-batch-zero", "run-max-batch-negative", "run-until-idle-negative",
                              "replay-max-batch-zero"])
def test_cli_refuses_out_of_range_options(tmp_path, args):
    cdc_project(tmp_path / "p", url=str(LOG))
    out = CliRunner().invoke(app, ["cdc", *args, "-p", str(tmp_path / "p")])
    assert out.exit_code == 2 and "Invalid value" in out.output


def test_the_api_refuses_a_batch_of_no_changes(tmp_path):
    platform = cdc_project(tmp_path / "p", url=str(LOG))
    with pytest.raises(HeadwaterError, match="max_batch must be at least 1"):
        platform.cdc.run("products_mirror", until_idle=0, max_batch=0)
    assert not platform.lakehouse.exists("products_mirror")


def test_resnapshot_of_a_debezium_source_is_an_error_naming_postgres(tmp_path):
    platform = cdc_project(tmp_path / "p", url=str(LOG))
    platform.cdc.run("products_mirror", until_idle=0)
    snap = platform.lakehouse.current("products_mirror").snapshot_id
    out = CliRunner().invoke(app, ["cdc", "run", "products_mirror", "--resnapshot", "-p", str(tmp_path / "p")])
    assert out.exit_code == 1
    assert "--resnapshot applies to PostgreSQL sources" in _said(out)
    assert platform.lakehouse.current("products_mirror").snapshot_id == snap


def test_output_reads_as_english_with_a_readable_position(tmp_path):
    project = tmp_path / "p"
    log = _log(tmp_path / "one.jsonl", [_event("products", 1)])
    cdc_project(project, url=log)
    runner = CliRunner()
    out = runner.invoke(app, ["cdc", "run", "products_mirror", "--until-idle", "0", "-p", str(project)])
    assert out.exit_code == 0, _said(out)
    assert "1 change in 1 commit (" in out.output and "position offset 0" in out.output
    assert "{'0'" not in out.output
    again = runner.invoke(app, ["cdc", "run", "products_mirror", "--until-idle", "0", "-p", str(project)])
    assert "0 changes in 0 commits" in again.output and "position offset 0" in again.output
    status = runner.invoke(app, ["cdc", "status", "-p", str(project)], env={"COLUMNS": "200"})
    assert "offset 0" in status.output and "0 events" in status.output


def test_init_writes_the_change_logs_the_cdc_products_read(tmp_path, monkeypatch):
    from headwater.examples import scaffold
    from headwater.platform import Platform

    monkeypatch.delenv("HEADWATER_DEMO_PG_URL", raising=False)
    done = scaffold("ecommerce", tmp_path / "shop", scale=0.005, end_date=date(2026, 11, 20))
    assert set(done.derived) == {"cdc/orders.jsonl", "cdc/payments.jsonl", "cdc/returns.jsonl"}
    monkeypatch.chdir(tmp_path / "shop")
    out = CliRunner().invoke(app, ["cdc", "run", "orders_cdc", "--until-idle", "0"])
    assert out.exit_code == 0, _said(out)
    platform = Platform(tmp_path / "shop")
    orders = platform.query("SELECT count(DISTINCT order_id) AS n FROM raw_orders").column("n")[0].as_py()
    assert platform.query("SELECT count(*) AS n FROM orders_cdc").column("n")[0].as_py() == orders


def test_init_names_the_command_when_the_logs_would_be_too_large(tmp_path, monkeypatch):
    from headwater.examples.ecommerce import generate

    monkeypatch.setattr(generate, "CDC_LOG_MAX_ORDERS", 100)
    out = CliRunner().invoke(app, ["init", str(tmp_path / "shop"), "--scale", "0.005"])
    assert out.exit_code == 0, _said(out)
    assert "python -m headwater.examples.ecommerce._cdc data cdc" in out.output
    assert not (tmp_path / "shop" / "cdc").exists()
    out = CliRunner().invoke(app, ["cdc", "run", "orders_cdc", "--until-idle", "0",
                                   "-p", str(tmp_path / "shop")])
    assert out.exit_code == 1 and "no Debezium change log at" in _said(out)
