"""SIGKILL at 50+ random points (reading, decoding, gating, writing files, committing,
acknowledging); after restarts the table holds every event exactly once, and the quarantine
table every late event exactly once. Runs for the inbox, Redis Streams and NATS JetStream."""

from __future__ import annotations

import json
import os
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


class Harness:
    """One crash harness process (started early so that the three sources run side by side)."""

    def __init__(self, tmp_path: Path, source: str, kind: str, extra: dict) -> None:
        self.seed = random.randrange(1 << 30)
        slices, self.expected, self.late = _plan(self.seed)
        self.root = stream_project(tmp_path / "p", source=source, max_batch_rows=37,
                                   max_batch_seconds=0.05, lateness="10m")
        config = {"kind": kind, "project": str(self.root), "seed": self.seed, "kills": KILLS,
                  "slices": slices, **extra}
        (tmp_path / "config.json").write_text(json.dumps(config))
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.streaming.crash_child",
                                      str(tmp_path / "config.json")], cwd=ROOT, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def check(self) -> tuple[dict, object]:
        out, err = self.proc.communicate(timeout=1500)
        assert self.proc.returncode == 0, err[-3000:]
        report = json.loads(out.strip().splitlines()[-1])
        from headwater.platform import Platform

        hw, seed = Platform(self.root), self.seed
        ids = hw.query("SELECT event_id FROM clicks").column("event_id").to_pylist()
        assert report["killed"] >= 50, f"seed {seed}: only {report['killed']} kills: {report}"
        assert report["final_exit"] == 0, report
        assert len(ids) == len(set(ids)), f"seed {seed}: duplicated events after {report}"
        assert set(ids) == self.expected, (f"seed {seed}: lost {len(self.expected - set(ids))}, "
                                           f"extra {len(set(ids) - self.expected)} after {report}")
        session = hw.engine.session()
        session.register_plan("q", hw.lakehouse.plan("clicks__quarantine"))
        quarantined = session.query("SELECT event_id FROM q").column("event_id").to_pylist()
        session.close()
        assert sorted(quarantined) == sorted(self.late), f"seed {seed}: quarantine not exactly once: {report}"
        return report, hw


@pytest.fixture(scope="module")
def harnesses(tmp_path_factory) -> dict[str, Harness]:
    """Start every harness whose service is configured; each test then waits for its own."""
    started = {"inbox": Harness(tmp_path_factory.mktemp("inbox"), "{kind: inbox}", "inbox", {})}
    redis_url, nats_url = os.environ.get("HEADWATER_TEST_REDIS_URL"), os.environ.get("HEADWATER_TEST_NATS_URL")
    if redis_url:
        stream = f"hw-crash-{uuid.uuid4().hex[:8]}"
        source = f"{{kind: redis, url: '{redis_url}', stream: {stream}, group: headwater}}"
        started["redis"] = Harness(tmp_path_factory.mktemp("redis"), source, "redis",
                                   {"url": redis_url, "stream": stream})
    if nats_url:
        name = f"HWCRASH{uuid.uuid4().hex[:8].upper()}"
        subject = f"hwcrash.{name.lower()}"
        source = (f"{{kind: nats, url: '{nats_url}', stream: {subject}, group: headwater, "
                  f"options: {{stream_name: {name}}}}}")
        started["nats"] = Harness(tmp_path_factory.mktemp("nats"), source, "nats",
                                  {"url": nats_url, "stream": subject, "stream_name": name})
    yield started
    for h in started.values():
        if h.proc.poll() is None:
            h.proc.kill()
            h.proc.wait()


@pytest.mark.slow
def test_inbox_survives_sigkill_anywhere(harnesses):
    report, hw = harnesses["inbox"].check()
    status = hw.streaming.status(with_lag=True)[0]
    assert status.lag["0"]["bytes"] == 0
    assert len(report["points"]) >= 6, report  # kills spread over reading, gating, writing, committing


@pytest.mark.slow
@pytest.mark.redis
def test_redis_streams_survive_sigkill_anywhere(harnesses, redis_url):
    harness = harnesses["redis"]
    harness.check()
    import redis

    config = json.loads((harness.root.parent / "config.json").read_text())
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.xpending(config["stream"], "headwater")["pending"] == 0  # all XACKed
    finally:
        client.delete(config["stream"])


@pytest.mark.slow
@pytest.mark.nats
def test_nats_jetstream_survives_sigkill_anywhere(harnesses, nats_url):
    harness = harnesses["nats"]
    config = json.loads((harness.root.parent / "config.json").read_text())
    try:
        harness.check()
    finally:
        import asyncio

        import nats

        async def drop():
            nc = await nats.connect(nats_url)
            try:
                await nc.jetstream().delete_stream(config["stream_name"])
            except Exception:  # noqa: BLE001 - cleanup of a test stream that may not exist
                pass
            await nc.close()
        asyncio.run(drop())
