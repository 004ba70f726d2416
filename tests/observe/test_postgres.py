"""The observe tables and the whole alert -> incident -> postmortem flow on a PostgreSQL ledger."""

import datetime as dt
from datetime import timedelta

import pytest

from headwater.observe.postmortem import ActionItem
from tests.observe.helpers import write_days
from tests.observe.test_incidents import MON, late_feed_project


@pytest.mark.postgres
def test_late_feed_incident_on_postgres(tmp_path, fresh_pg_database):
    from headwater.clock import FrozenClock
    from headwater.platform import Platform
    from headwater.settings import Settings

    root = late_feed_project(tmp_path)
    clock = FrozenClock(MON + timedelta(hours=1))
    hw = Platform(root, clock=clock, settings=Settings(ledger_url=fresh_pg_database))
    write_days(root, {dt.date(2026, 1, 4): 4}, landed=MON + timedelta(minutes=30))
    assert hw.run().ok
    clock.set(MON + timedelta(days=1, hours=1))
    assert hw.run().ok
    clock.set(MON + timedelta(days=1, hours=1, minutes=30))
    ev = hw.observe.evaluate(notify=False)
    assert {a["product"] for a in ev.fired} == {"raw_orders", "stg_orders", "daily_revenue"}
    (incident,) = hw.observe.incidents()
    assert incident.root == "raw_orders" and incident.mttd == timedelta(hours=1, minutes=30)
    assert incident.started_at.tzinfo is not None
    clock.advance(timedelta(hours=1))
    done = hw.observe.resolve(incident.incident_id, who="ana")
    assert done.mttr == timedelta(hours=2, minutes=30)
    pm = hw.observe.postmortem(incident.incident_id, summary="s", impact="i", root_cause="r", category="c",
                               actions=[ActionItem.parse("fix | ana | 2026-02-01")])
    assert pm.complete and pm.timeline[0]["kind"] == "started"
