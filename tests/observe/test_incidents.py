"""A late source feed: alerts on it and on every product downstream become ONE incident;
acknowledge, resolve, MTTD and MTTR in simulated time; postmortems."""

import datetime as dt
from datetime import timedelta

import pytest

from headwater.errors import HeadwaterError
from headwater.observe.grouping import Condition
from headwater.observe.incidents import mean
from headwater.observe.postmortem import ActionItem
from headwater.observe.sinks.memory import MemorySink
from tests.observe.helpers import write_days
from tests.projects import MINI_FILES, mini_project

MON = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)


def late_feed_project(tmp_path):
    sources = MINI_FILES["sources/raw.yaml"]
    pad = sources[:sources.index("path: data/orders.parquet")].rsplit("\n", 1)[1]
    sources = sources.replace("path: data/orders.parquet",
                              'path: data/orders.parquet\n' + pad + 'expected_arrival: "00:30"')
    products = MINI_FILES["products/sales.yaml"]
    indent = products[:products.index("tier: ops")].rsplit("\n", 1)[1]
    products = products.replace("tier: ops", "tier: ops\n" + indent + "slo: {freshness: 25h}")
    return mini_project(tmp_path / "late", **{"sources/raw.yaml": sources, "products/sales.yaml": products})


@pytest.fixture
def late(tmp_path):
    from headwater.clock import FrozenClock
    from headwater.platform import Platform

    root = late_feed_project(tmp_path)
    clock = FrozenClock(MON + timedelta(hours=1))
    hw = Platform(root, clock=clock)
    write_days(root, {dt.date(2026, 1, 4): 4}, landed=MON + timedelta(minutes=30))  # Sunday's orders
    assert hw.run().ok                                  # Monday 01:00: all fresh
    clock.set(MON + timedelta(days=1, hours=1))         # Tuesday 01:00: Monday's orders did not land
    assert hw.run().ok
    return hw, clock


def test_a_late_source_is_one_incident_listing_every_affected_product(late):
    hw, clock = late
    assert hw.observe.evaluate(at=MON + timedelta(hours=12), notify=False).fired == []  # Monday noon: healthy
    clock.set(MON + timedelta(days=1, hours=1, minutes=30))
    sink = MemorySink()
    ev = hw.observe.evaluate(sinks=[sink])
    fired = {(a["product"], a["sli"], a["severity"]) for a in ev.fired}
    assert fired == {("raw_orders", "arrival", "ticket"), ("stg_orders", "freshness", "page"),
                     ("daily_revenue", "freshness", "page")}
    assert len({a["incident_id"] for a in ev.fired}) == 1
    (incident,) = hw.observe.incidents()
    assert (incident.root, incident.root_kind, incident.state, incident.severity) == \
        ("raw_orders", "source", "open", "page")
    assert incident.affected == ["daily_revenue", "stg_orders"]  # stg_customers reads another source
    assert len(sink.sent) == 3 and {a.state for a in sink.sent} == {"firing"}
    assert {a.incident_id for a in sink.sent} == {incident.incident_id}
    # first bad data: daily_revenue (finance, 24h) went stale at Tuesday 00:00
    assert incident.started_at == MON + timedelta(days=1)
    assert incident.detected_at == clock.now()
    assert incident.mttd == timedelta(hours=1, minutes=30)
    # evaluating again does not open or re-send anything
    clock.advance(timedelta(minutes=10))
    again = hw.observe.evaluate(sinks=[sink])
    assert again.fired == [] and len(sink.sent) == 3 and len(hw.observe.incidents()) == 1


def test_acknowledge_resolve_and_mttr(late):
    hw, clock = late
    clock.set(MON + timedelta(days=1, hours=1, minutes=30))
    hw.observe.evaluate(notify=False)
    (incident,) = hw.observe.incidents()
    clock.advance(timedelta(minutes=15))
    acked = hw.observe.acknowledge(incident.incident_id, who="ana")
    assert (acked.state, acked.acknowledged_at, acked.acknowledged_by) == ("acknowledged", clock.now(), "ana")
    with pytest.raises(HeadwaterError):
        hw.observe.acknowledge(incident.incident_id)
    # the feed lands at 02:30 and the products catch up
    clock.set(MON + timedelta(days=1, hours=2, minutes=30))
    write_days(hw.root, {dt.date(2026, 1, 4): 4, dt.date(2026, 1, 5): 4}, landed=clock.now())
    assert hw.run().ok
    clock.advance(timedelta(minutes=5))
    soon = hw.observe.evaluate(notify=False)
    assert [a["product"] for a in soon.resolved] == ["raw_orders"]  # landed: no longer late
    # the burn-rate alerts reset once their short window is clean: 30m for the 6h page, 6h for the ticket
    clock.set(MON + timedelta(days=1, hours=8, minutes=35))
    cleared = hw.observe.evaluate(notify=False)
    assert {a["product"] for a in cleared.resolved} == {"stg_orders", "daily_revenue"}
    assert hw.observe.alerts("firing") == []
    clock.set(MON + timedelta(days=1, hours=9))
    done = hw.observe.resolve(incident.incident_id, who="ana", note="supplier re-sent the file")
    assert done.state == "resolved" and done.mttr == timedelta(hours=9)  # from Tuesday 00:00
    kinds = [e["kind"] for e in done.timeline]
    assert kinds[:2] == ["started", "opened"] and kinds[-1] == "resolved"
    assert "acknowledged" in kinds and "alert_resolved" in kinds
    assert [e["at"] for e in done.timeline] == sorted(e["at"] for e in done.timeline)
    assert mean([done.mttd, timedelta(hours=2, minutes=30)]) == timedelta(hours=2)
    with pytest.raises(HeadwaterError):
        hw.observe.resolve(incident.incident_id)


def test_unrelated_roots_are_separate_incidents(mini):
    from headwater.clock import FrozenClock
    from headwater.platform import Platform

    hw = Platform(mini, clock=FrozenClock(MON))
    store = hw.observe.incidents_store
    at = MON + timedelta(hours=2)
    conditions = [Condition("stg_orders", "product", "completeness", "page", "r", MON, "empty"),
                  Condition("daily_revenue", "product", "freshness", "page", "r", MON, "stale"),
                  Condition("stg_customers", "product", "freshness", "ticket", "r",
                            MON + timedelta(hours=1), "stale")]
    store.record(conditions, at)
    # daily_revenue reads both troubled products: it joins the branch whose trouble began first
    roots = sorted((i.root, sorted(a["product"] for a in i.alerts), i.affected) for i in hw.observe.incidents())
    assert roots == [("stg_customers", ["stg_customers"], ["daily_revenue", "stg_customers"]),
                     ("stg_orders", ["daily_revenue", "stg_orders"], ["daily_revenue", "stg_orders"])]
    # a downstream alert after the upstream one cleared still joins the open incident (within 6h)
    store.record([Condition("daily_revenue", "product", "validity", "ticket", "r", at, "bad rows")],
                 at + timedelta(hours=1))
    assert len(hw.observe.incidents()) == 2
    # ... but not once the window has passed
    store.record([Condition("daily_revenue", "product", "latency", "ticket", "r", at, "slow")],
                 at + timedelta(hours=9))
    assert len(hw.observe.incidents()) == 3


def test_postmortem_completeness_and_recurring_root_cause(mini):
    from headwater.clock import FrozenClock
    from headwater.platform import Platform

    clock = FrozenClock(MON)
    hw = Platform(mini, clock=clock)
    store = hw.observe.incidents_store

    def incident(at):
        store.record([Condition("stg_orders", "product", "freshness", "page", "r", at, "late")], at)
        store.record([], at + timedelta(minutes=1))  # cleared, so the next one is a new alert
        return max(i.incident_id for i in hw.observe.incidents())

    first = incident(MON)
    pm = hw.observe.postmortem(first, summary="orders late", category="Late upstream feed")
    assert not pm.complete and set(pm.missing) == {"impact", "root_cause", "action_items"}
    assert pm.timeline  # copied from the incident
    pm = hw.observe.postmortem(first, impact="revenue dashboard stale 3h", root_cause="SFTP down",
                               actions=[ActionItem.parse("alert on SFTP | ")])
    assert pm.missing == ["action_items[1].owner", "action_items[1].due"]
    pm = hw.observe.postmortem(first, actions=[ActionItem.parse("add retry | ops-team | 2026-02-01")])
    assert pm.missing == ["action_items[1].owner", "action_items[1].due"]
    assert pm.action_items[1].due == dt.date(2026, 2, 1)
    second = incident(MON + timedelta(days=150))
    pm2 = hw.observe.postmortem(second, category="late upstream feed")
    assert pm2.recurrences == [first] and pm2.to_dict()["recurring"] is True
    third = incident(MON + timedelta(days=150 + 100))  # 100 days after the second, 250 after the first
    assert hw.observe.postmortem(third, category="late upstream feed").recurrences == [second]
    assert hw.observe.postmortem(first).recurrences == [second]
    with pytest.raises(HeadwaterError):
        ActionItem.parse("x | y | next week")
