"""The observe commands as a user types them, on the late-feed scenario (times given with --at)."""

import json
import subprocess
import sys
from datetime import timedelta

from tests.observe.test_incidents import MON, late  # noqa: F401  (the fixture)

TUE_0130 = (MON + timedelta(days=1, hours=1, minutes=30)).isoformat()


def hw(*args: str, ok: bool = True):
    """In-process for speed; the error paths go through the real entry point (``cli``)."""
    from typer.testing import CliRunner

    from headwater.cli import app

    if not ok:
        return cli(*args)
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def cli(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "headwater.cli", *args], capture_output=True, text=True, check=False)
    assert "Traceback" not in proc.stderr
    return proc


def test_slo_alerts_incidents_postmortem_metrics(late):  # noqa: F811
    platform, _ = late
    p = ["--project", str(platform.root)]
    report = json.loads(hw("slo", "stg_orders", "--at", TUE_0130, "--json", *p).stdout)
    (orders,) = report["products"]
    fresh = orders["slis"]["freshness"]
    assert fresh["status"] == "breached" and fresh["value"] == 25.5 * 3600
    assert fresh["firing"] and fresh["budget"]["left"] < 1 and fresh["burn_rates"]["1h"] > 14.4
    human = hw("slo", "--at", TUE_0130, *p).stdout
    assert "stg_orders" in human and "breached" in human

    alerts = json.loads(hw("alerts", "--at", TUE_0130, "--json", *p).stdout)
    assert {a["product"] for a in alerts["fired"]} == {"raw_orders", "stg_orders", "daily_revenue"}
    assert (platform.root / ".headwater" / "alerts.jsonl").read_text().count("\n") == 3  # the default sink

    listed = json.loads(hw("incidents", "list", "--json", *p).stdout)
    (incident,) = listed["incidents"]
    assert incident["root"] == "raw_orders" and listed["mean_mttd_seconds"] == 5400
    shown = hw("incidents", "show", str(incident["incident_id"]), *p).stdout
    assert "raw_orders" in shown and "timeline" in shown
    ack_at = (MON + timedelta(days=1, hours=1, minutes=45)).isoformat()
    acked = json.loads(hw("incidents", "ack", "1", "--by", "ana", "--at", ack_at, "--json", *p).stdout)
    assert acked["state"] == "acknowledged" and acked["acknowledged_at"] == ack_at

    missing = hw("incidents", "postmortem", "1", *p, ok=False)
    assert missing.returncode == 1 and "fix:" in missing.stderr
    pm = json.loads(hw("incidents", "postmortem", "1", "--summary", "orders feed late", "--category", "late feed",
                       "--action", "page the supplier | procurement | 2026-02-01", "--json", *p).stdout)
    assert pm["complete"] is False and pm["missing"] == ["impact", "root_cause"]
    assert "INCOMPLETE" in hw("incidents", "postmortem", "1", *p).stdout
    resolve_at = (MON + timedelta(days=1, hours=4)).isoformat()
    resolved = json.loads(hw("incidents", "resolve", "1", "--at", resolve_at, "--json", *p).stdout)
    assert resolved["state"] == "resolved" and resolved["mttr_seconds"] == 4 * 3600  # from Tuesday 00:00

    text = hw("metrics", "--at", TUE_0130, *p).stdout
    assert "# TYPE headwater_error_budget_remaining gauge" in text
    assert 'headwater_source_late{source="raw_orders"} 1' in text
    assert 'headwater_sli_breached{product="stg_orders",sli="freshness",tier="ops"} 1' in text

    bad = hw("slo", "--at", "yesterday", *p, ok=False)
    assert bad.returncode == 1 and "ISO 8601" in bad.stderr
    anomalies = json.loads(hw("anomalies", "stg_orders", "--json", *p).stdout)
    assert anomalies["product"] == "stg_orders" and anomalies["scores"]
