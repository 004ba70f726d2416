"""Watermarks per partition with idle timeout, bounded dedupe state, the inbox's bound, and
tumbling / sliding windows emitted when the watermark passes and updated on late data."""

from __future__ import annotations

import os
from datetime import timedelta

import numpy as np
import pytest

from headwater.clock import FrozenClock
from headwater.lanes.streaming.state import DedupeState, Watermarks, to_us
from headwater.platform import Platform
from headwater.sources.inbox import Inbox, InboxFull
from tests.streaming.helpers import T0, events, stream_project

S = 1_000_000  # one second in microseconds


def test_watermark_is_the_slowest_active_partition_and_idle_ones_stop_holding_it():
    clock = FrozenClock(T0)
    wm = Watermarks(timedelta(seconds=10), timedelta(minutes=1), clock, {}, None)
    base = to_us(T0)
    wm.observe(["a", "b"], np.array([base + 100 * S, base + 20 * S]))
    assert wm.watermark == base + 10 * S  # held back by b
    clock.advance(timedelta(seconds=30))
    late = wm.observe(["a", "a"], np.array([base + 200 * S, base + 5 * S]))
    assert late.tolist() == [False, True] and wm.watermark == base + 10 * S
    clock.advance(timedelta(seconds=45))  # b silent for 75 s > idle timeout
    wm.advance_idle()
    assert wm.watermark == base + 190 * S
    wm.observe(["b"], np.array([base + 25 * S]))  # b wakes up behind: it cannot pull the watermark back
    assert wm.watermark == base + 190 * S


def test_dedupe_state_is_bounded_by_the_window_of_the_watermark():
    import pyarrow as pa

    state = DedupeState(["id"], timedelta(minutes=10))
    batch = pa.table({"id": ["a", "b", "a", "c"]})
    dup = state.duplicates(state.keys_of(batch))
    assert dup.tolist() == [False, False, True, False]  # a repeat within the batch
    state.remember(["a", "b", "c"], np.array([0, 60 * S, 700 * S]))
    assert state.duplicates(state.keys_of(batch)).all() and len(state) == 3
    assert state.evict(650 * S) == 1  # 'a' (t=0) is older than watermark - 10 min
    assert len(state) == 2 and state.contains(["a", "b"]).tolist() == [False, True]
    assert state.cutoff(650 * S) <= 50 * S  # the rule the restart rebuilds the state with


def test_inbox_refuses_past_its_bound_and_frees_space_on_ack(tmp_path):
    inbox = Inbox(tmp_path / "inbox", max_bytes=2000, segment_bytes=500)
    while True:
        try:
            inbox.append(events(5))
        except InboxFull as exc:
            assert "bound" in exc.message and exc.fix
            break
    assert len(inbox.segments()) > 1 and inbox.backlog_bytes() <= 2000
    inbox.acknowledge(inbox.end())
    assert len(inbox.segments()) == 1 and inbox.backlog_bytes() == 0
    inbox.append(events(5))


def test_inbox_cuts_a_torn_tail_left_by_a_killed_writer(tmp_path):
    inbox = Inbox(tmp_path / "inbox")
    inbox.append(events(3))
    end = inbox.end()
    with open(inbox.segments()[-1][1], "ab") as fh:
        fh.write(b'{"event_id": "half')
    assert inbox.end() == end  # readers never see the partial line
    data, count, _ = inbox.read_lines(0, 100)
    assert count == 3
    inbox.append(events(1, start=3))
    data, count, _ = inbox.read_lines(0, 100)
    assert count == 4 and b"half" not in data
    assert os.path.getsize(inbox.segments()[-1][1]) == inbox.end()


WINDOWS = """
windows:
  - name: per_5m
    kind: tumbling
    size: 5m
    group_by: [page]
    aggregates: {views: "count(*)", users: "count(DISTINCT \\"user\\")"}
  - name: sliding
    kind: sliding
    size: 10m
    slide: 5m
    aggregates: {views: "count(*)"}
"""


def _rows(hw, table):
    session = hw.engine.session()
    session.register_plan("t", hw.lakehouse.plan(table))
    try:
        return session.query("SELECT * FROM t ORDER BY ALL").to_pylist()
    finally:
        session.close()


def test_windows_are_emitted_when_the_watermark_passes_and_updated_by_late_data(tmp_path):
    root = stream_project(tmp_path / "p", lateness="1m", late_policy="update", windows=WINDOWS)
    hw = Platform(root)
    hw.streaming.ingest("clicks", events(900))  # one event per second for 15 minutes
    result = hw.streaming.run("clicks", until_idle=0.2)
    assert result.status == "success", result.error
    rows = _rows(hw, "clicks__per_5m")
    # watermark 14m59s - 1m = 13m59s: windows [0,5) and [5,10) are closed, [10,15) is not
    assert {r["window_start"].minute for r in rows} == {0, 5}
    assert sum(r["views"] for r in rows) == 600
    sliding = {r["window_start"].minute: r["views"] for r in _rows(hw, "clicks__sliding")}
    assert sliding[0] == 600 and sliding[55] == 300  # [9:55,10:05) holds the first 5 minutes
    late = [{**e, "event_id": f"late{i}"} for i, e in enumerate(events(3, start=10))]
    hw.streaming.ingest("clicks", late + events(300, start=900))
    result = Platform(root).streaming.run("clicks", until_idle=0.2)
    assert result.stats["late_updated"] == 3
    rows = _rows(hw, "clicks__per_5m")
    by_start = {}
    for r in rows:
        by_start[r["window_start"].minute] = by_start.get(r["window_start"].minute, 0) + r["views"]
    assert by_start == {0: 303, 5: 300, 10: 300}  # the late events updated the committed window


@pytest.mark.parametrize("policy", ["quarantine", "drop"])
def test_windows_ignore_late_data_unless_the_policy_is_update(tmp_path, policy):
    root = stream_project(tmp_path / "p", lateness="1m", late_policy=policy, windows=WINDOWS)
    hw = Platform(root)
    late = [{**e, "event_id": f"late{i}"} for i, e in enumerate(events(3, start=10))]
    hw.streaming.ingest("clicks", events(700) + late)
    hw.streaming.run("clicks", until_idle=0.2)
    assert sum(r["views"] for r in _rows(hw, "clicks__per_5m")) == 600
