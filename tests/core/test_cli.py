"""The CLI end to end, as a user types it: init, validate, run, status, query, snapshots, runs, demo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def hw(*args: str, cwd=None, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "headwater.cli", *args], capture_output=True, text=True, cwd=cwd)
    if ok:
        assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli") / "shop"
    hw("init", str(root), "--scale", "0.02")
    return root


def test_init_validate_run_status_query(shop):
    assert "ok" in hw("validate", "--project", str(shop)).stdout
    report = json.loads(hw("validate", "--project", str(shop), "--json").stdout)
    assert report["products"] >= 18 and report["sources"] >= 11
    run = json.loads(hw("run", "--project", str(shop), "--json").stdout)
    assert run["status"] == "success", [s for s in run["steps"] if s["status"] != "success"]
    status = json.loads(hw("status", "--json", cwd=shop).stdout)
    by = {s["product"]: s for s in status}
    assert by["fct_orders"]["last_status"] == "success" and by["fct_orders"]["rows"] > 0
    assert by["fct_orders"]["snapshot_id"]
    rows = json.loads(hw("query", "SELECT count(*) AS n FROM fct_orders", "--json", cwd=shop).stdout)
    assert rows[0]["n"] == by["fct_orders"]["rows"]
    csv_out = hw("query", "SELECT country FROM dim_customers ORDER BY 1 LIMIT 2", "--csv", cwd=shop).stdout
    assert csv_out.splitlines()[0] == "country"
    snaps = json.loads(hw("snapshots", "fct_orders", "--json", cwd=shop).stdout)
    first = snaps[0]["snapshot_id"]
    assert json.loads(hw("query", "SELECT count(*) AS n FROM fct_orders", "--as-of", str(first), "--json",
                         cwd=shop).stdout)[0]["n"] == rows[0]["n"]
    runs = json.loads(hw("runs", "--json", cwd=shop).stdout)
    assert runs[0]["status"] == "success" and runs[0]["rows_written"] > 0


def test_errors_are_one_line_with_a_fix(shop):
    proc = hw("run", "no_such_product", "--project", str(shop), ok=False)
    assert proc.returncode == 1 and "Error: no product named 'no_such_product'" in proc.stderr
    assert "fix:" in proc.stderr
    proc = hw("query", "SELECT * FROM nope", "--project", str(shop), ok=False)
    assert proc.returncode == 1 and "fix: tables are products and sources" in proc.stderr
    proc = hw("status", "--project", str(shop.parent / "missing"), ok=False)
    assert proc.returncode == 1 and "headwater init" in proc.stderr
    proc = hw("init", str(shop), ok=False)
    assert proc.returncode == 1 and "fix:" in proc.stderr


def test_usage_errors_are_clicks_own_messages_not_unexpected_errors():
    bare = hw(ok=False)  # no command: the help, as click shows it
    assert "Commands" in bare.stdout + bare.stderr and "unexpected" not in bare.stderr
    wrong = hw("run", "--no-such-option", ok=False)
    assert wrong.returncode == 2 and "No such option" in wrong.stderr and "unexpected" not in wrong.stderr
    unknown = hw("contract", "nope", ok=False)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr and "unexpected" not in unknown.stderr


def test_tables_piped_to_a_file_are_not_wrapped_at_80_columns(shop):
    import os

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # pytest sets 80; a user's COLUMNS is obeyed
    out = subprocess.run([sys.executable, "-m", "headwater.cli", "status", "--project", str(shop)],
                         capture_output=True, text=True, env=env, check=True).stdout
    row = next(line for line in out.splitlines() if "fct_daily_revenue" in line)
    assert len(row) > 80 and "batch" in row  # one product, one line


def test_a_failed_step_makes_run_exit_one(tmp_path):
    from tests.projects import mini_project

    root = mini_project(tmp_path / "p", **{"sql/stg_customers.sql": "SELECT CAST(country AS INTEGER) AS c FROM raw_customers\n"})
    proc = hw("run", "--project", str(root), ok=False)
    assert proc.returncode == 1
    assert "skipped" in proc.stdout and "failed" in proc.stdout


def test_demo_builds_everything(tmp_path):
    out = json.loads(hw("demo", str(tmp_path / "demo"), "--scale", "0.02", "--stage", "build", "--json").stdout)
    build = out["stages"]["build"]
    assert build["status"] == "success" and build["succeeded"] == build["products"] >= 18
    assert build["rows"] > 0 and build["warehouse_bytes"] > 0
