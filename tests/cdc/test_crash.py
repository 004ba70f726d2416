"""SIGKILL the CDC lane at random points of its snapshot and of its streaming; after a restart the
mirror equals the source table row for row: no change lost, none applied twice."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time

from tests.cdc.crash_worker import context, work
from tests.cdc.helpers import cdc_project
from tests.cdc.pg import ORDERS, assert_mirror_equals_source, connect, libpq

SEED = int(os.environ.get("HEADWATER_CRASH_SEED", "7"))
SNAPSHOT_KILLS = 22
STREAM_KILLS = 32


def _writer(url: str, rng: random.Random, stop: threading.Event, counter: list[int]) -> None:
    """Random transactions of inserts, updates and deletes until told to stop."""
    with connect(url) as conn:
        next_id = 100_000
        while not stop.is_set():
            with conn.transaction():
                for _ in range(rng.randint(1, 12)):
                    pick = rng.random()
                    key = rng.randint(1, 3000)
                    if pick < 0.6:
                        conn.execute("UPDATE orders SET status = %s, amount = amount + 1, "
                                     "updated_at = now() WHERE id = %s", (rng.choice("abcde"), key))
                    elif pick < 0.85:
                        next_id += 1
                        conn.execute("INSERT INTO orders (id, status, amount) VALUES (%s, 'new', 1)",
                                     (next_id,))
                    else:
                        conn.execute("DELETE FROM orders WHERE id = %s", (key,))
            counter[0] += 1
            time.sleep(rng.random() * 0.01)


def _state(platform) -> tuple[str, int, str]:
    """(phase, rows, lsn) of the mirror's last commit."""
    if not platform.lakehouse.exists("products_mirror"):
        return "snapshot", 0, ""
    summary = platform.lakehouse.current("products_mirror").summary
    positions = json.loads(summary.get("headwater.cdc.positions", "{}"))
    return positions.get("phase", "snapshot"), int(summary.get("total-records", 0)), positions.get("lsn", "")


def _phase(platform) -> str:
    return _state(platform)[0]


def test_sigkill_during_snapshot_and_streaming(tmp_path, fresh_pg_database):
    url = fresh_pg_database
    rng = random.Random(SEED)
    with connect(url) as conn:
        conn.execute(ORDERS)
        conn.execute("INSERT INTO orders (id, status, amount, note) SELECT g, 'new', g, repeat('x', 50) "
                     "FROM generate_series(1, 3000) g")
    project = tmp_path / "p"
    platform = cdc_project(project, kind="postgres", url=libpq(url), table="public.orders", slot="hw_orders")
    ctx = context()
    kills = {"snapshot": 0, "stream": 0}
    seen: list[tuple[str, int, str]] = []

    def crash_once(delay: float, max_batch: int, commits: int = 0) -> str:
        """Start the lane, let it make ``commits`` commits (however slow the machine is), then
        kill it ``delay`` seconds later: at a random point of its work, not of the clock."""
        seen_ids = {platform.lakehouse.current("products_mirror").snapshot_id
                    if platform.lakehouse.exists("products_mirror") else None}
        proc = ctx.Process(target=work, args=(str(project), max_batch))
        proc.start()
        for _ in range(600):
            if len(seen_ids) > commits or not proc.is_alive():
                break
            if platform.lakehouse.exists("products_mirror"):
                seen_ids.add(platform.lakehouse.current("products_mirror").snapshot_id)
            time.sleep(0.02)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        assert proc.exitcode == -signal.SIGKILL  # it was killed, not finished or failed
        seen.append(_state(platform))
        return seen[-1][0]

    # Snapshot: small chunks (50 rows) so a kill lands between, inside and around chunk commits.
    for _ in range(SNAPSHOT_KILLS):
        phase_before = _phase(platform)
        crash_once(rng.uniform(0.0, 0.5), 50, commits=rng.randint(0, 15))  # 60 chunks: kills land in the snapshot even on a fast machine
        kills["snapshot" if phase_before == "snapshot" else "stream"] += 1
    done = platform.cdc.run("products_mirror", until_idle=0, max_batch=500)  # finish the snapshot
    assert done.status == "success", done.error

    # Streaming: a writer commits transactions while the lane is killed again and again.
    stop, counter = threading.Event(), [0]
    writer = threading.Thread(target=_writer, args=(url, rng, stop, counter), daemon=True)
    writer.start()
    try:
        for _ in range(STREAM_KILLS):
            crash_once(rng.uniform(0.0, 0.8), rng.choice([5, 20, 100]), commits=rng.randint(0, 4))
            kills["stream"] += 1
    finally:
        stop.set()
        writer.join()
    final = platform.cdc.run("products_mirror", until_idle=0, max_batch=1000)
    assert final.status == "success", final.error
    assert_mirror_equals_source(platform, url)
    assert counter[0] > 50  # transactions really were streamed during the kills
    assert kills["snapshot"] >= 15 and sum(kills.values()) >= 50, kills
    # the kills landed at different points: part-way through the snapshot (some chunks committed)
    # and at many different stream positions
    partial = {rows for phase, rows, _ in seen if phase == "snapshot" and 0 < rows < 3000}
    assert len(partial) >= 5, seen
    assert len({lsn for phase, _, lsn in seen if phase == "stream"}) >= 20, seen
    print(f"crash harness seed={SEED} kills={kills} source transactions={counter[0]} "
          f"snapshot rows at kill={sorted(partial)}")
