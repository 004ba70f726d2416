"""SIGKILL at 50+ random points (reading, decoding, gating, writing files, committing,
acknowledging); after restarts the table holds every event exactly once, and the quarantine
table every late event exactly once. Runs for the inbox, Redis Streams and NATS JetStream."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.streaming.helpers import T0, events, stream_project

KILLS = 52
ROOT = Path(__file__).resolve().parents[2]


def _plan(seed: int, n: int = 2600, slices: int = 70):
    """Events in slices, with replayed duplicates and events a day late (always late)."""
    rng = random.Random(seed)
    good = events(n)
    late = [{**e, "event_id": f"late{i}", "ts": (T0 - timedelta(days=1)).isoformat()}
            for i, e in enumerate(events(40))]
    stream = list(good)
    for _ in range(n // 10):  # 10% duplicates, replayed a little later
        i = rng.randrange(n)
        stream.insert(min(len(stream), i + rng.randint(1, 50)), good[i])
    for e in late:
        stream.insert(rng.randrange(300, len(stream)), e)
    size = -(-len(stream) // slices)
    return [stream[i:i + size] for i in range(0, len(stream), size)], {e["event_id"] for e in good}, \
        {e["event_id"] for e in late}


def _run_harness(tmp_path: Path, source: str, kind: str, extra: dict) -> tuple[dict, object]:
    seed = random.randrange(1 << 30)
    slices, expected, late = _plan(seed)
    root = stream_project(tmp_path / "p", source=source, max_batch_rows=37, max_batch_seconds=0.05,
                          lateness="10m")
    config = {"kind": kind, "project": str(root), "seed": seed, "kills": KILLS, "slices": slices, **extra}
    (tmp_path / "config.json").write_text(json.dumps(config))
    proc = subprocess.run([sys.executable, "-m", "tests.streaming.crash_child", str(tmp_path / "config.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    from headwater.platform import Platform

    hw = Platform(root)
    ids = hw.query("SELECT event_id FROM clicks").column("event_id").to_pylist()
    assert report["killed"] >= 50, f"seed {seed}: only {report['killed']} kills: {report}"
    assert report["final_exit"] == 0, report
    assert len(ids) == len(set(ids)), f"seed {seed}: duplicated events after {report}"
    assert set(ids) == expected, (f"seed {seed}: lost {len(expected - set(ids))}, "
                                  f"extra {len(set(ids) - expected)} after {report}")
    q = hw.lakehouse.plan("clicks__quarantine")
    session = hw.engine.session()
    session.register_plan("q", q)
    quarantined = session.query("SELECT event_id FROM q").column("event_id").to_pylist()
    session.close()
    assert sorted(quarantined) == sorted(late), f"seed {seed}: quarantine not exactly once: {report}"
    return report, hw


@pytest.mark.slow
def test_inbox_survives_sigkill_anywhere(tmp_path):
    report, hw = _run_harness(tmp_path, "{kind: inbox}", "inbox", {})
    status = hw.streaming.status(with_lag=True)[0]
    assert status.lag["0"]["bytes"] == 0
    assert len(report["points"]) >= 6, report  # kills spread over reading, gating, writing, committing


@pytest.mark.slow
@pytest.mark.redis
def test_redis_streams_survive_sigkill_anywhere(tmp_path, redis_url):
    stream = f"hw-crash-{uuid.uuid4().hex[:8]}"
    source = f"{{kind: redis, url: '{redis_url}', stream: {stream}, group: headwater}}"
    _run_harness(tmp_path, source, "redis", {"url": redis_url, "stream": stream})
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        pending = client.xpending(stream, "headwater")
        assert pending["pending"] == 0  # everything committed was acknowledged (XACK)
    finally:
        client.delete(stream)


@pytest.mark.slow
@pytest.mark.nats
def test_nats_jetstream_survives_sigkill_anywhere(tmp_path, nats_url):
    name = f"HWCRASH{uuid.uuid4().hex[:8].upper()}"
    subject = f"hwcrash.{name.lower()}"
    source = f"{{kind: nats, url: '{nats_url}', stream: {subject}, group: headwater, options: {{stream_name: {name}}}}}"
    try:
        _run_harness(tmp_path, source, "nats", {"url": nats_url, "stream": subject, "stream_name": name})
    finally:
        import asyncio

        import nats

        async def drop():
            nc = await nats.connect(nats_url)
            try:
                await nc.jetstream().delete_stream(name)
            except Exception:  # noqa: BLE001 - cleanup of a test stream that may not exist
                pass
            await nc.close()
        asyncio.run(drop())
