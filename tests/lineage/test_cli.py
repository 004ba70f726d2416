"""The lineage, impact, import, diagnose and serve commands, end to end in a subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.lineage.helpers import JAFFLE, base_event

FIXTURES = Path(__file__).parents[1] / "diagnose" / "fixtures"


def hw(*args: str, cwd, ok: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "headwater.cli", *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin)
    if ok:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def test_ingest_files_and_stdin_then_show_and_diagnose(mini):
    out = json.loads(hw("lineage", "ingest", str(FIXTURES / "late_supplier.jsonl"), "--json", cwd=mini).stdout)
    assert out["stored"] == 70 and out["rejected"] == []
    piped = hw("lineage", "ingest", "-", "--json", cwd=mini, stdin=json.dumps(base_event()))
    assert json.loads(piped.stdout)["stored"] == 1
    bad = hw("lineage", "ingest", "-", cwd=mini, ok=False, stdin='{"eventType": "START"}\n')
    assert bad.returncode == 1 and "missing required eventTime" in bad.stdout
    shown = json.loads(hw("lineage", "show", "airflow://prod/supplier_report", "--upstream", "--depth", "2",
                          "--json", cwd=mini).stdout)
    by_distance = {(n["distance"], n["type"], n["name"]) for n in shown["upstream"]}
    assert by_distance == {(1, "DATASET", "stg/orders"), (1, "DATASET", "stg/products"), (1, "DATASET", "stg/suppliers"),
                           (2, "JOB", "stg_orders"), (2, "JOB", "stg_products"), (2, "JOB", "stg_suppliers")}
    report = json.loads(hw("diagnose", "airflow://prod/supplier_report", "--json", cwd=mini).stdout)
    assert report["findings"][0]["kind"] == "late_upstream"
    text = hw("diagnose", "airflow://prod/supplier_report", "--audience", "executive", cwd=mini).stdout
    assert "s3://raw/suppliers.csv" in text and len(text.strip().split("\n\n")) == 1
    err = hw("diagnose", "airflow://prod/supplier_report", "--audience", "cfo", cwd=mini, ok=False)
    assert err.returncode == 1 and "unknown audience" in err.stderr


def test_import_dbt_and_impact(mini):
    report = json.loads(hw("import", "dbt", "--manifest", str(JAFFLE / "manifest.json"), "--run-results",
                           str(JAFFLE / "run_results.json"), "--catalog", str(JAFFLE / "catalog.json"),
                           "--json", cwd=mini).stdout)
    assert report["runs"] == 28
    impact = json.loads(hw("impact", "duckdb://jaffle_shop/main.stg_orders", "--json", cwd=mini).stdout)
    assert {d["name"] for d in impact["datasets"]} == {"main.orders", "main.customers"}
    hw("run", cwd=mini)
    column = json.loads(hw("impact", "stg_customers.country", "--json", cwd=mini).stdout)
    assert [j["product"] for j in column["broken_jobs"]] == ["daily_revenue"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_accepts_openlineage_over_real_http(mini):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "headwater.cli", "serve", "--port", str(port)], cwd=mini,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        event = base_event()
        assert httpx.post(f"{url}/api/v1/lineage", json=event).status_code == 201
        bad = httpx.post(f"{url}/api/v1/lineage", json={**event, "eventType": "DONE"})
        assert bad.status_code == 400 and "DONE" in bad.json()["message"]
        graph = httpx.get(f"{url}/api/v1/lineage", params={"nodeId": "job:tests:example_job"}).json()["graph"]
        assert {n["id"] for n in graph} == {"job:tests:example_job", "dataset:tests:in_table", "dataset:tests:out_table"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_import_dbt_with_the_warehouse_namespace_and_a_wrong_one(mini):
    report = json.loads(hw("import", "dbt", "--manifest", str(JAFFLE / "manifest.json"), "--namespace",
                           "postgres://wh.example", "--json", cwd=mini).stdout)
    assert report["dataset_namespace"] == "postgres://wh.example:5432"
    impact = json.loads(hw("impact", "postgres://wh.example:5432/jaffle_shop.main.stg_orders", "--json",
                           cwd=mini).stdout)
    assert {d["name"] for d in impact["datasets"]} == {"jaffle_shop.main.orders", "jaffle_shop.main.customers"}
    wrong = hw("import", "dbt", "--manifest", str(JAFFLE / "manifest.json"), "--namespace", "postgres://wh/db",
               cwd=mini, ok=False)
    assert wrong.returncode != 0 and "not a dataset namespace" in wrong.stderr + wrong.stdout
    assert "fix:" in wrong.stderr + wrong.stdout and "Traceback" not in wrong.stderr
