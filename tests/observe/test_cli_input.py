"""Bad input to the observe commands is a clear error, and the options do what their help says."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.errors import HeadwaterError, NotFoundError
from tests.observe.test_cli import TUE_0130, cli
from tests.observe.test_incidents import MON, late  # noqa: F401  (the fixture)

RUN = CliRunner()


def _invoke(platform, *args: str):
    return RUN.invoke(app, [*args, "--project", str(platform.root)])


def _json(platform, *args: str) -> dict:
    res = _invoke(platform, *args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_no_notify_is_a_preview_and_the_next_evaluation_records_and_delivers(late):  # noqa: F811
    platform, _ = late
    sent = platform.root / ".headwater" / "alerts.jsonl"
    preview = _json(platform, "alerts", "--no-notify", "--at", TUE_0130)
    assert preview["recorded"] is False
    assert {a["product"] for a in preview["fired"]} == {"raw_orders", "stg_orders", "daily_revenue"}
    assert {a["incident_id"] for a in preview["fired"]} == {None}  # the incident would be new
    assert len(preview["firing"]) == 3
    assert not sent.exists() and platform.observe.incidents() == [] and platform.observe.alerts() == []
    text = RUN.invoke(app, ["alerts", "--no-notify", "--at", TUE_0130, "--project", str(platform.root)],
                      env={"COLUMNS": "250"}).stdout
    assert "3 new" in text and "preview: nothing recorded or sent" in text
    real = _json(platform, "alerts", "--at", TUE_0130)
    assert real["recorded"] is True and len(real["fired"]) == 3  # still new: the preview stored nothing
    assert sent.read_text().count("\n") == 3
    assert len(platform.observe.incidents()) == 1
    assert "--no-notify" in RUN.invoke(app, ["alerts", "--help"], env={"COLUMNS": "200"}).stdout


def test_a_preview_of_an_alert_of_an_open_incident_names_it(late):  # noqa: F811
    platform, _ = late
    at = MON + timedelta(days=1, hours=1, minutes=30)
    platform.observe.evaluate(at=at, notify=False)
    (incident,) = platform.observe.incidents()
    ev = platform.observe.evaluate(at=at + timedelta(minutes=5), record=False)
    assert ev.fired == [] and {a["incident_id"] for a in ev.firing} == {incident.incident_id}


def test_resolve_or_ack_before_the_incident_was_opened_is_refused(late):  # noqa: F811
    platform, _ = late
    _json(platform, "alerts", "--at", TUE_0130)
    res = _invoke(platform, "incidents", "resolve", "1", "--at", "2020-01-01")
    assert res.exit_code == 1 and isinstance(res.exception, HeadwaterError)
    assert "was opened at" in res.exception.message and "--at" in res.exception.fix
    res = _invoke(platform, "incidents", "ack", "1", "--at", "2026-01-06T00:10Z")  # started, not yet detected
    assert res.exit_code == 1 and isinstance(res.exception, HeadwaterError)
    assert platform.observe.incident(1).state == "open"
    acked = _json(platform, "incidents", "ack", "1", "--at", "2026-01-06T02:00Z")
    assert acked["state"] == "acknowledged"
    res = _invoke(platform, "incidents", "resolve", "1", "--at", "2026-01-06T01:45Z")  # before the ack
    assert res.exit_code == 1 and "acknowledged at" in res.exception.message
    done = _json(platform, "incidents", "resolve", "1", "--at", "2026-01-06T03:00Z")
    assert done["mttr_seconds"] == 3 * 3600


def test_an_unknown_incident_state_is_refused_with_the_states_there_are(late):  # noqa: F811
    platform, _ = late
    res = _invoke(platform, "incidents", "list", "--state", "bogus")
    assert res.exit_code == 1 and isinstance(res.exception, HeadwaterError)
    assert "open, acknowledged, resolved" in res.exception.fix
    assert _json(platform, "incidents", "list", "--state", "resolved")["incidents"] == []


def test_mttd_and_mttr_read_as_durations(late):  # noqa: F811
    platform, _ = late
    _json(platform, "alerts", "--at", TUE_0130)
    listed = RUN.invoke(app, ["incidents", "list", "--project", str(platform.root)], env={"COLUMNS": "250"}).stdout
    assert "mean MTTD 1h30m" in listed and "1:30:00" not in listed
    _json(platform, "incidents", "resolve", "1", "--at", "2026-01-06T04:00Z")
    shown = RUN.invoke(app, ["incidents", "show", "1", "--project", str(platform.root)], env={"COLUMNS": "250"}).stdout
    assert "MTTD 1h30m" in shown and "MTTR 4h" in shown


def _gauges(platform, at: str) -> dict[str, float]:
    text = _invoke(platform, "metrics", "--at", at).stdout
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line.startswith(("headwater_alerts_firing", "headwater_incidents_open"))}


def test_metrics_at_a_time_counts_the_alerts_and_incidents_of_that_time(late):  # noqa: F811
    platform, _ = late
    _json(platform, "alerts", "--at", TUE_0130)
    _json(platform, "incidents", "resolve", "1", "--at", "2026-01-06T04:00Z")
    before = _gauges(platform, "2026-01-05T12:00Z")  # Monday noon: nothing had fired
    assert before == {'headwater_alerts_firing{severity="page"}': 0, 'headwater_alerts_firing{severity="ticket"}': 0,
                      "headwater_incidents_open": 0}
    during = _gauges(platform, TUE_0130)
    assert during['headwater_alerts_firing{severity="page"}'] == 2
    assert during['headwater_alerts_firing{severity="ticket"}'] == 1 and during["headwater_incidents_open"] == 1
    after = _gauges(platform, "2026-01-06T05:00Z")  # resolved at 04:00; the alerts have not cleared
    assert after["headwater_incidents_open"] == 0 and after['headwater_alerts_firing{severity="page"}'] == 2


@pytest.mark.parametrize("days", ["nan", "1e9", "-3", "0", "inf"])
def test_anomalies_days_must_be_a_positive_number_of_days(late, days):  # noqa: F811
    platform, _ = late
    res = _invoke(platform, "anomalies", "stg_orders", "--days", days)
    assert res.exit_code == 2 and "--days" in res.output


def test_anomalies_days_error_is_one_line_not_unexpected(late):  # noqa: F811
    platform, _ = late
    proc = cli("anomalies", "stg_orders", "--days", "nan", "--project", str(platform.root))
    assert proc.returncode == 2 and "unexpected" not in proc.stderr and "--days" in proc.stderr


def test_exclude_checks_the_product_and_the_step_before_storing_anything(late):  # noqa: F811
    platform, _ = late
    staging = platform.ledger.steps(product="stg_orders")[0].step_id
    res = _invoke(platform, "anomalies", "nope", "--exclude", staging)
    assert res.exit_code == 1 and isinstance(res.exception, NotFoundError)
    res = _invoke(platform, "anomalies", "daily_revenue", "--exclude", staging)
    assert res.exit_code == 1 and "is a run of stg_orders, not of daily_revenue" in res.exception.message
    res = _invoke(platform, "anomalies", "stg_orders", "--exclude", "no-such-step")
    assert res.exit_code == 1 and isinstance(res.exception, NotFoundError) and "'ref'" in res.exception.fix
    assert platform.observe.outliers() == set()
    assert _invoke(platform, "anomalies", "stg_orders", "--exclude", staging).exit_code == 0
    assert platform.observe.outliers() == {staging}
