"""The CLI shells (check, quarantine list/show/replay, compat, lint, import/export) and deprecation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from headwater.cli import app
from headwater.clock import FrozenClock
from headwater.platform import Platform
from tests.contracts.helpers import CONTRACT, set_contract

RUN = CliRunner()
SHARED = Path("/work/shared/testdata")
# The CLI reads the real clock, so the fixed test data would not be fresh: drop that rule here.
NO_FRESHNESS = CONTRACT.replace("  - {freshness: {column: created_at, within: 30d}}\n", "")


def _json(args):
    res = RUN.invoke(app, args)
    return res.exit_code, json.loads(res.stdout)


def test_check_and_quarantine_commands(shop_root, clock):
    set_contract(shop_root, NO_FRESHNESS)
    Platform(shop_root, clock=clock).run()
    code, report = _json(["contract", "check", "stg_orders", "--project", str(shop_root), "--json"])
    assert code == 0 and report["passed"] and report["version"] == "1.0.0"
    assert report["snapshot_id"] == Platform(shop_root, clock=clock).lakehouse.current("stg_orders").snapshot_id
    assert {c["id"]: c["status"] for c in report["checks"]}["email.length"] == "warned"
    code, listed = _json(["quarantine", "list", "--project", str(shop_root), "--json"])
    assert code == 0 and listed[0]["product"] == "stg_orders" and listed[0]["rows"] == 7
    code, shown = _json(["quarantine", "show", "stg_orders", "--rule", "amount_not_negative",
                         "--project", str(shop_root), "--json"])
    assert [r["order_id"] for r in shown] == [24] and shown[0]["_hw_rules"] == ["amount_not_negative"]
    set_contract(shop_root, NO_FRESHNESS.replace("{range: {min: 0}, id: amount_not_negative}",
                                             "{range: {min: -10}, id: amount_not_negative}"))
    code, replayed = _json(["quarantine", "replay", "stg_orders", "--project", str(shop_root), "--json"])
    assert code == 0 and replayed["moved"] == 1 and replayed["still_failing"] == 6


def test_text_output_shows_patterns_and_rows_as_written_not_as_markup(shop_root, clock):
    warn = (NO_FRESHNESS.replace("id: email_format}", "id: email_format, severity: warn}")
            .replace("[placed, shipped, cancelled]}", "[placed, shipped, cancelled]}, severity: warn}"))
    set_contract(shop_root, warn.replace("{accepted_values: [placed, shipped, cancelled]}, severity: warn}",
                                         "{accepted_values: [placed, shipped, cancelled], severity: warn}"))
    Platform(shop_root, clock=clock).run()
    res = RUN.invoke(app, ["contract", "check", "stg_orders", "--project", str(shop_root)], env={"COLUMNS": "250"})
    assert "does not match [^@ ]+@[^@ ]+\\.[a-z]+" in res.stdout  # rich would have eaten [a-z] as a style
    assert "is not one of" in res.stdout and "[placed, shipped, cancelled]" in res.stdout.replace("'", "")
    res = RUN.invoke(app, ["quarantine", "show", "stg_orders", "--project", str(shop_root)], env={"COLUMNS": "400"})
    assert '"tags": ["a"]' in res.stdout and '"country": "DE"' in res.stdout  # every column, not the first 6
    res = RUN.invoke(app, ["quarantine", "show", "stg_orders", "--rule", "nope", "--project", str(shop_root)])
    assert "amount_not_negative" in res.exception.fix  # names the rules there are (main() prints it, exit 1)
    res = RUN.invoke(app, ["quarantine", "show", "stg_orders", "--limit", "-3", "--project", str(shop_root)])
    assert res.exit_code == 2


def test_check_exit_code_is_one_when_the_table_breaks_the_contract(shop_root, clock):
    Platform(shop_root, clock=clock).run()
    set_contract(shop_root, NO_FRESHNESS.replace("accepted_values: [placed, shipped, cancelled]", "accepted_values: [x]"))
    code, report = _json(["contract", "check", "stg_orders", "--project", str(shop_root), "--json"])
    assert code == 1 and not report["passed"]
    failed = [c for c in report["checks"] if c["status"] == "failed"]
    assert failed[0]["id"] == "status.accepted_values" and failed[0]["failed_rows"] > 0 and failed[0]["samples"]


def test_compat_command(tmp_path):
    old, new = tmp_path / "old.avsc", tmp_path / "new.avsc"
    old.write_text(json.dumps({"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"}]}))
    new.write_text(json.dumps({"type": "record", "name": "r", "fields": [{"name": "a", "type": "long"}]}))
    code, out = _json(["contract", "compat", "--format", "avro", "--mode", "BACKWARD", str(new), str(old), "--json"])
    assert code == 0 and out == {"compatible": True, "messages": []}
    code, out = _json(["contract", "compat", "--format", "avro", "--mode", "FULL", str(new), str(old), "--json"])
    assert code == 1 and not out["compatible"] and "type_mismatch" in out["messages"][0]


def test_lint_import_export_commands(tmp_path, shop_root):
    code, out = _json(["contract", "lint", str(SHARED / "datacontracts/odcs/full-example.odcs.yaml"), "--json"])
    assert code == 0 and out["valid"] and out["format"] == "odcs v3.1.0"
    target = tmp_path / "imported.yaml"
    res = RUN.invoke(app, ["contract", "import", str(SHARED / "datacontracts/dcs/orders-latest.datacontract.yaml"),
                           "--format", "dcs", "--out", str(target)])
    assert res.exit_code == 0
    code, out = _json(["contract", "lint", str(target), "--json"])
    assert code == 0 and out["format"] == "headwater", out
    res = RUN.invoke(app, ["contract", "export", "stg_orders", "--format", "odcs", "--project", str(shop_root)])
    assert res.exit_code == 0 and "apiVersion: v3.1.0" in res.stdout


DEPRECATED = CONTRACT.replace("version: 1.0.0", "version: 1.0.0\nstatus: deprecated\n"
                              "deprecation: {since: 2026-01-01, sunset: 2026-02-01, replacement: 2.0.0}")


def test_reading_a_deprecated_version_warns_and_is_recorded(shop_root):
    set_contract(shop_root, DEPRECATED)
    platform = Platform(shop_root, clock=FrozenClock(dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc)))
    assert platform.run().status == "success"  # before the sunset, writes go on
    events = platform.contracts.deprecation.events("stg_orders")
    assert [(e["kind"], e["consumer"], e["version"]) for e in events] == [("deprecated_read", "order_totals", "1.0.0")]
    assert "move to 2.0.0" in events[0]["message"]


def test_writes_past_the_sunset_are_blocked_naming_the_replacement(shop_root):
    set_contract(shop_root, DEPRECATED)
    platform = Platform(shop_root, clock=FrozenClock(dt.datetime(2026, 2, 2, tzinfo=dt.timezone.utc)))
    result = platform.run(["stg_customers", "stg_orders"])
    step = result.steps[-1]
    assert step.status.value == "failed" and "sunset" in step.error and "2.0.0" in step.error
    assert not platform.lakehouse.exists("stg_orders")


def test_a_retired_contract_blocks_writes(shop_root, clock):
    set_contract(shop_root, CONTRACT.replace("version: 1.0.0", "version: 1.0.0\nstatus: retired"))
    result = Platform(shop_root, clock=clock).run(["stg_customers", "stg_orders"])
    assert result.steps[-1].status.value == "failed" and "retired" in result.steps[-1].error


def test_validate_checks_every_contract_with_file_line_and_key(shop_root):
    from tests.contracts.helpers import CONTRACT

    assert RUN.invoke(app, ["validate", "--project", str(shop_root), "--json"]).exit_code == 0
    set_contract(shop_root, CONTRACT.replace("{name: order_id, type: long, nullable: false}",
                                             "{name: order_id, type: long, nulable: false}"))
    res = RUN.invoke(app, ["validate", "--project", str(shop_root)])
    errors = res.exception.errors
    assert [(str(e.location), "nullable" in (e.fix or "")) for e in errors] == [("contracts/stg_orders.yaml:7: columns.0.nulable", True)]


def test_file_arguments_are_checked_before_any_work(tmp_path, shop_root):
    odcs = str(SHARED / "datacontracts/odcs/column-accuracy.odcs.yaml")
    for args in (["contract", "lint", str(tmp_path / "missing.yaml")], ["contract", "lint", str(tmp_path)],
                 ["contract", "compat", str(tmp_path / "new.avsc"), str(tmp_path / "old.avsc")],
                 ["contract", "check", "stg_orders", "--samples", "-1", "--project", str(shop_root)]):
        res = RUN.invoke(app, args)
        assert res.exit_code == 2 and "Invalid value" in res.output, (args, res.output)
    res = RUN.invoke(app, ["contract", "import", odcs, "--out", str(tmp_path / "no" / "x.yaml")])
    assert "does not exist" in res.exception.message and "mkdir -p" in res.exception.fix
    res = RUN.invoke(app, ["contract", "import", odcs, "--out", str(tmp_path)])
    assert "it is a folder" in res.exception.message
