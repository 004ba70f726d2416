"""A run killed with SIGKILL in the middle of a write leaves the previous snapshot readable, and
the next run completes correctly."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from headwater.platform import Platform
from tests.projects import mini_project


def _big_orders(root, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    table = pa.table({
        "order_id": np.arange(n, dtype=np.int64),
        "customer_id": rng.integers(1, 4, n),
        "order_ts": pa.array(start + rng.integers(0, 30 * 86400, n).astype("timedelta64[s]"),
                             pa.timestamp("us", tz="UTC")),
        "amount": rng.random(n) * 100,
    })
    pq.write_table(table, root / "data/orders.parquet")


def _data_files(root) -> set[str]:
    return {str(p) for p in (root / ".headwater/warehouse").rglob("*.parquet")}


def test_sigkill_mid_write_keeps_previous_snapshot_and_next_run_recovers(tmp_path):
    root = mini_project(tmp_path / "p")
    _big_orders(root, 1_500_000, seed=1)
    hw = Platform(root)
    assert hw.run(["stg_orders"]).ok
    before = hw.query("SELECT count(*) AS n, sum(order_id) AS s FROM stg_orders").to_pylist()[0]
    snapshot = hw.lakehouse.current("stg_orders").snapshot_id
    _big_orders(root, 1_600_000, seed=2)  # new content: a finished run would change the table

    rng = random.Random(7)
    killed_mid_write = 0
    for attempt in range(12):
        files_before = _data_files(root)
        proc = subprocess.Popen([sys.executable, "-m", "headwater.cli", "run", "stg_orders", "--full-refresh",
                                 "--project", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # wait until the step has started writing data files, then kill at a random moment
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and _data_files(root) == files_before:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is not None:
            continue  # it finished before we could kill it; try again
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        fresh = Platform(root)
        current = fresh.lakehouse.current("stg_orders").snapshot_id
        if current != snapshot:
            # the commit landed just before the kill: the table must then hold the new data, whole
            after = fresh.query("SELECT count(*) AS n FROM stg_orders").to_pylist()[0]
            assert after["n"] == 1_600_000
            return _check_recovery(root, expect_rows=1_600_000)
        written = _data_files(root) - files_before
        assert written, "the kill came before any file was written"
        killed_mid_write += 1
        # the previous snapshot is intact and readable, orphan files are not visible
        assert fresh.query("SELECT count(*) AS n, sum(order_id) AS s FROM stg_orders").to_pylist()[0] == before
        if killed_mid_write >= 3:
            break
    assert killed_mid_write >= 1
    _check_recovery(root, expect_rows=1_600_000)


def _check_recovery(root, expect_rows: int) -> None:
    hw = Platform(root)
    result = hw.run(["stg_orders"], full_refresh=True)
    assert result.ok
    assert hw.query("SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM stg_orders").to_pylist()[0] == \
        {"n": expect_rows, "d": expect_rows}
    # the dead run was found and closed in the ledger, with its step
    dead = [r for r in hw.ledger.runs(50) if r.status == "failed"]
    assert dead
    for run in dead:
        steps = hw.ledger.steps(run_id=run.run_id)
        assert steps and all(s.status == "failed" and "died" in s.error for s in steps)
    assert not [r for r in hw.ledger.runs(50) if r.status == "running"]
