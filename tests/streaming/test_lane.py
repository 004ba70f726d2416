"""The streaming lane end to end on the inbox: exactly once, late policies, dedupe, windows, SLIs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headwater.platform import Platform
from headwater.sources.fault import FaultSource, InjectedFault
from tests.streaming.helpers import T0, events, stream_project


def _ids(hw, table="clicks"):
    if table == "clicks":
        return hw.query("SELECT event_id FROM clicks").column("event_id").to_pylist()
    session = hw.engine.session()
    session.register_plan("t", hw.lakehouse.plan(table))
    try:
        return session.query("SELECT * FROM t").to_pylist()
    finally:
        session.close()


def _with_contract(root):
    """The clicks project with a contract: event_id and user must not be null."""
    root = stream_project(root, extra="    contract: contracts/clicks.yaml\n")
    (root / "contracts").mkdir()
    (root / "contracts" / "clicks.yaml").write_text(
        "product: clicks\nversion: 1.0.0\nowner: {team: web-data}\ncolumns:\n"
        "  - {name: event_id, type: string, nullable: false}\n"
        "  - {name: user, type: string, nullable: false}\n"
        "  - {name: page, type: string}\n"
        "  - {name: ts, type: timestamptz}\n")
    return root


def test_duplicates_are_removed_within_a_run_and_across_restarts(tmp_path):
    hw = Platform(stream_project(tmp_path / "p", max_batch_rows=64))
    ev = events(300)
    hw.streaming.ingest("clicks", ev[:200] + ev[50:80])
    first = hw.streaming.run("clicks", until_idle=0.2)
    assert first.status == "success", first.error
    assert first.stats["duplicates"] == 30 and first.stats["written"] == 200
    hw.streaming.ingest("clicks", ev[150:300])  # 50 replayed from the previous run
    second = Platform(hw.root).streaming.run("clicks", until_idle=0.2)
    assert second.stats["duplicates"] == 50 and second.stats["written"] == 100
    ids = _ids(hw)
    assert len(ids) == 300 and set(ids) == {e["event_id"] for e in ev}


def test_late_events_are_quarantined_with_the_reason_and_counted(tmp_path):
    hw = Platform(stream_project(tmp_path / "p", lateness="1m", late_policy="quarantine"))
    ev = events(200)  # one per second: after 200 s the watermark is at 2m19s
    late = [{**e, "event_id": f"late{i}"} for i, e in enumerate(events(5))]  # event time 0..4 s
    hw.streaming.ingest("clicks", ev + late)
    result = hw.streaming.run("clicks", until_idle=0.2)
    assert result.stats["late"] == 5 and result.stats["late_quarantined"] == 5
    rows = _ids(hw, "clicks__quarantine")
    assert sorted(r["event_id"] for r in rows) == [f"late{i}" for i in range(5)]
    assert all(r["_hw_reasons"][0].startswith("late: event time behind the watermark") for r in rows)
    assert all(r["_hw_rules"] == ["late"] and r["_hw_run_id"] == result.run_id for r in rows)
    status = hw.streaming.status()[0]
    assert status.late_rate == pytest.approx(5 / 205, abs=1e-6)
    step = hw.ledger.latest("clicks")
    assert step.details["stream"]["late"] == 5 and step.details["stream"]["late_rate"] > 0
    assert step.data_time == T0 + timedelta(seconds=199) - timedelta(minutes=1)


def test_drop_policy_counts_and_drops_late_events(tmp_path):
    hw = Platform(stream_project(tmp_path / "p", lateness="30s", late_policy="drop"))
    hw.streaming.ingest("clicks", events(100) + [{**events(1)[0], "event_id": "late"}])
    result = hw.streaming.run("clicks", until_idle=0.2)
    assert result.stats["late_dropped"] == 1
    assert "late" not in _ids(hw) and len(_ids(hw)) == 100
    assert not hw.lakehouse.exists("clicks__quarantine")


def test_lateness_does_not_depend_on_batch_boundaries(tmp_path):
    ev = events(300)
    ev.insert(250, {**ev[10], "event_id": "late"})
    counts = []
    for rows in (7, 1000):
        hw = Platform(stream_project(tmp_path / f"p{rows}", lateness="1m", max_batch_rows=rows))
        hw.streaming.ingest("clicks", ev)
        counts.append(hw.streaming.run("clicks", until_idle=0.2).stats["late"])
    assert counts == [1, 1]


def test_events_without_a_readable_event_time_are_quarantined(tmp_path):
    hw = Platform(stream_project(tmp_path / "p"))
    hw.streaming.ingest("clicks", events(10) + [{"event_id": "x1", "ts": "not a time"}, {"event_id": "x2"}])
    result = hw.streaming.run("clicks", until_idle=0.2)
    assert result.stats["bad_event_time"] == 2 and result.stats["written"] == 10
    reasons = {r["event_id"]: r["_hw_reasons"][0] for r in _ids(hw, "clicks__quarantine")}
    assert set(reasons) == {"x1", "x2"} and "event time" in reasons["x1"]


def test_each_micro_batch_commit_holds_positions_and_watermark(tmp_path):
    hw = Platform(stream_project(tmp_path / "p", max_batch_rows=50))
    hw.streaming.ingest("clicks", events(120))
    hw.streaming.run("clicks", until_idle=0.2)
    snaps = [s for s in hw.lakehouse.snapshots("clicks")]
    assert len(snaps) == 3  # 50 + 50 + 20
    offsets = [int(__import__("json").loads(s.summary["headwater.stream.positions"])["0"]) for s in snaps]
    assert offsets == sorted(offsets) and offsets[-1] == hw.streaming.inbox("clicks").end()
    assert all(s.summary["headwater.stream.watermark"] for s in snaps)
    assert hw.streaming.inbox("clicks").committed() == offsets[-1]  # acknowledged after the commit


def test_max_events_stops_after_exactly_that_many(tmp_path):
    hw = Platform(stream_project(tmp_path / "p", max_batch_rows=40))
    hw.streaming.ingest("clicks", events(100))
    assert hw.streaming.run("clicks", max_events=70).stats["rows_in"] == 70
    assert len(_ids(hw)) == 70
    hw.streaming.run("clicks", until_idle=0.2)
    assert len(_ids(hw)) == 100


def test_fault_source_duplicates_reorders_and_crashes_yet_the_table_is_exact(tmp_path):
    hw = Platform(stream_project(tmp_path / "p", max_batch_rows=25, lateness="1h"))
    ev = events(200)
    hw.streaming.ingest("clicks", ev)
    product = hw.streaming.product("clicks")
    for attempt in range(20):
        inner = hw.streaming.source(product)
        faulty = FaultSource(inner, options={"duplicate": 0.2, "reorder": True, "seed": attempt,
                                             "crash_on": {"commit": 3}})
        result = Platform(hw.root).streaming.run("clicks", until_idle=0.2, source=faulty)
        if result.status == "success":
            break
        assert "injected crash" in result.error
    assert faulty.injected["duplicated"] > 0 and faulty.injected["reordered_batches"] > 0
    ids = _ids(hw)
    assert len(ids) == 200 and set(ids) == {e["event_id"] for e in ev}


def test_fault_source_drops_are_visible_as_missing_events(tmp_path):
    hw = Platform(stream_project(tmp_path / "p", source="{kind: fault, options: {drop: 0.1, seed: 7}}"))
    source = hw.streaming.source(hw.streaming.product("clicks"))
    source.source.append(events(300))
    hw.streaming.run("clicks", until_idle=0.2, source=source)
    assert len(_ids(hw)) == 300 - source.injected["dropped"] and source.injected["dropped"] > 0
    with pytest.raises(InjectedFault):
        FaultSource(options={"events": events(3), "crash_on": {"read": 1}}).read(10, 0.1)


def test_the_contract_gate_quarantines_bad_rows_of_a_micro_batch(tmp_path):
    root = _with_contract(tmp_path / "p")
    hw = Platform(root)
    bad = [{**e, "user": None} for e in events(4, start=100)]
    hw.streaming.ingest("clicks", events(50) + bad)
    result = hw.streaming.run("clicks", until_idle=0.2)
    assert result.status == "success", result.error
    assert result.stats["gate_quarantined"] == 4 and result.stats["written"] == 50
    rows = _ids(hw, "clicks__quarantine")
    assert sorted(r["event_id"] for r in rows) == [f"e{i}" for i in range(100, 104)]
    assert hw.ledger.latest("clicks").details["gate"]["quarantined"] == 4


def test_lane_and_gate_quarantine_rows_share_one_table_run_after_run(tmp_path):
    """The gate's rows and the lane's own (unreadable event time) land in one quarantine table;
    the second run used to fail: the lane wrote rows without the gate's contract-version and
    replay columns, which the table's schema then refused."""
    root = _with_contract(tmp_path / "p")
    hw = Platform(root)
    for run, start in enumerate((0, 1000)):
        bad_user = [{**e, "user": None} for e in events(2, start=start + 100)]
        bad_time = [{"event_id": f"t{start}", "user": "u", "ts": "garbage"}]
        hw.streaming.ingest("clicks", events(20, start=start) + bad_user + bad_time)
        result = Platform(root).streaming.run("clicks", until_idle=0.2)
        assert result.status == "success", (run, result.error)
        assert result.stats["gate_quarantined"] == 2 and result.stats["bad_event_time"] == 1
    rows = _ids(hw, "clicks__quarantine")
    assert len(rows) == 6 and {r["_hw_contract_version"] for r in rows} <= {"1.0.0", None}
    assert sorted(hw.contracts.quarantine_list("clicks")[0]["rules"].items()) == [
        ("event_time", 2), ("user.not_null", 4)]
    (root / "contracts" / "clicks.yaml").write_text(  # user may be null now: replay the gate's rows
        (root / "contracts" / "clicks.yaml").read_text().replace("version: 1.0.0", "version: 1.1.0")
        .replace("{name: user, type: string, nullable: false}", "{name: user, type: string}"))
    replayed = Platform(root).contracts.replay("clicks")
    assert (replayed.moved, replayed.still_failing, replayed.left_to_lane) == (4, 0, 2)
    assert sorted(r["event_id"] for r in _ids(hw, "clicks__quarantine")) == ["t0", "t1000"]


def test_event_times_in_any_common_form_become_utc_microseconds():
    import pyarrow as pa

    from headwater.lanes.streaming.decode import event_times

    col = pa.chunked_array([pa.array(["2026-01-01T00:00:00Z", "2026-01-01T02:00:00+02:00",
                                      "2026-01-01 00:00:00", "nonsense"])])
    out = event_times(col).to_pylist()
    assert out[0] == out[1] == out[2] and out[3] is None
    ints = event_times(pa.chunked_array([pa.array([1767225600, 1767225600000])])).to_pylist()
    assert ints[0] == ints[1] == out[0]


def test_old_snapshots_of_a_streaming_table_are_expired_but_the_data_and_positions_stay(tmp_path):
    root = stream_project(tmp_path / "p", max_batch_rows=20, extra="    retention: {min_snapshots: 3}\n")
    text = (root / "products" / "clicks.yaml").read_text().replace("      max_batch_rows", "      keep_snapshots: 0s\n      max_batch_rows")
    (root / "products" / "clicks.yaml").write_text(text)
    hw = Platform(root)
    hw.streaming.ingest("clicks", events(200))
    assert hw.streaming.run("clicks", until_idle=0.2).stats["batches"] == 10
    assert len(hw.lakehouse.snapshots("clicks")) == 3
    hw.streaming.ingest("clicks", events(250))  # 200 replays and 50 new ones
    second = Platform(root).streaming.run("clicks", until_idle=0.2)
    assert second.stats["duplicates"] == 200 and second.stats["written"] == 50
    assert sorted(_ids(hw)) == sorted(e["event_id"] for e in events(250))


def test_headwater_run_refuses_a_streaming_product_naming_its_command(tmp_path):
    from headwater.errors import HeadwaterError

    hw = Platform(stream_project(tmp_path / "p"))
    with pytest.raises(HeadwaterError, match="streaming product") as info:
        hw.run(["clicks"])
    assert info.value.fix == "headwater stream run clicks" and hw.ledger.runs() == []
    with pytest.raises(HeadwaterError) as info:
        hw.snapshots("clicks")  # no table yet: the fix names the lane's command
    assert info.value.fix == "run it first: headwater stream run clicks"


def test_a_dedupe_key_pyiceberg_stores_under_another_name_dedupes_across_restarts(tmp_path):
    """pyiceberg writes "event id" as "event_x20id" in Parquet; the restart rebuilds the dedupe
    window from those files and the table reads the values back (not NULL)."""
    hw = Platform(stream_project(tmp_path / "p", dedupe="{key: ['event id'], window: 24h}"))
    ev = [{"event id": e.pop("event_id"), **e} for e in events(100)]
    hw.streaming.ingest("clicks", ev[:60])
    assert hw.streaming.run("clicks", until_idle=0.2).status == "success"
    hw.streaming.ingest("clicks", ev[40:])  # 20 replayed from the first run
    second = Platform(hw.root).streaming.run("clicks", until_idle=0.2)
    assert second.status == "success", second.error
    assert second.stats["duplicates"] == 20 and second.stats["written"] == 40
    ids = hw.query('SELECT "event id" FROM clicks').column(0).to_pylist()
    assert sorted(ids) == sorted(e["event id"] for e in ev)
