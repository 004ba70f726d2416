"""The SIGKILL crash harness, run as its own process: ``python -m tests.streaming.crash_child CONFIG``.

It imports everything once, then forks one consumer after another. Each consumer is armed to
SIGKILL itself at a random named point (read, decode, gate, quarantine-commit, write, a Parquet
file half written, just before the catalog commit, just after it, after the ack) or is killed by
this process after a random delay. Between consumers the feeder publishes the next slice of
events, with planted duplicates and very late events. At the end one consumer runs unarmed to
completion, and the harness prints a JSON report. The test then checks the table itself.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time

POINTS = ["read", "decode", "gate", "quarantine-commit", "write", "parquet-write", "commit",
          "committed", "ack", "timed"]


def install_file_points() -> None:
    """Kill points inside the Iceberg write: mid Parquet file and between files and the commit."""
    import pyarrow.parquet as pq
    from pyiceberg.table import Transaction

    from headwater.lanes.streaming import killpoints

    original_write = pq.ParquetWriter.write_table

    def write_table(self, table, *args, **kwargs):
        original_write(self, table, *args, **kwargs)
        killpoints.reach("parquet-write")  # rows written, footer not: a torn data file

    pq.ParquetWriter.write_table = write_table
    original_commit = Transaction.commit_transaction

    def commit_transaction(self):
        killpoints.reach("commit")  # data files complete, catalog not yet pointing at them
        return original_commit(self)

    Transaction.commit_transaction = commit_transaction


def feeder(config: dict):
    kind = config["kind"]
    if kind == "inbox":
        from headwater.sources.inbox import Inbox

        inbox = Inbox(os.path.join(config["project"], ".headwater", "inbox", "clicks"))
        return lambda events: inbox.append(events)
    if kind == "redis":
        import redis

        client = redis.Redis.from_url(config["url"])

        def publish(events):
            pipe = client.pipeline()
            for e in events:
                pipe.xadd(config["stream"], {"data": json.dumps(e)})
            pipe.execute()
        return publish
    if kind == "nats":
        import asyncio

        import nats

        async def _publish(events):
            from nats.js.errors import NotFoundError

            nc = await nats.connect(config["url"])
            js = nc.jetstream()
            try:
                await js.stream_info(config["stream_name"])
            except NotFoundError:
                await js.add_stream(name=config["stream_name"], subjects=[config["stream"]])
            for e in events:
                await js.publish(config["stream"], json.dumps(e).encode())
            await nc.close()
        return lambda events: asyncio.run(_publish(events))
    raise SystemExit(f"unknown kind {kind}")


def consume(config: dict, kill_at: str | None) -> None:
    """Body of one forked consumer."""
    from headwater.lanes.streaming import killpoints
    from headwater.platform import Platform

    killpoints.configure(kill_at)
    hw = Platform(config["project"])
    result = hw.streaming.run("clicks", until_idle=config.get("until_idle", 0.15), step_interval=0.5)
    os._exit(0 if result.status == "success" else 3)


def main(path: str) -> None:
    config = json.load(open(path))
    rng = random.Random(config["seed"])
    import pyiceberg.catalog.sql  # noqa: F401

    import headwater.lanes.streaming.consumer
    import headwater.platform  # noqa: F401

    install_file_points()
    publish = feeder(config)
    slices = config["slices"]
    report = {"killed": 0, "clean_exits": 0, "failed_exits": 0, "points": {}}
    attempts = 0
    while report["killed"] < config["kills"] and attempts < config["kills"] * 4:
        attempts += 1
        if slices:
            publish(slices.pop(0))
        point = rng.choice(POINTS)
        kill_at = None if point == "timed" else f"{point}:{rng.randint(1, 3)}"
        pid = os.fork()
        if pid == 0:
            try:
                consume(config, kill_at)
            finally:
                os._exit(4)
        if point == "timed":
            time.sleep(rng.uniform(0.05, 1.5))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            report["killed"] += 1
            report["points"][point] = report["points"].get(point, 0) + 1
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            report["clean_exits"] += 1
        else:
            report["failed_exits"] += 1
    for rest in slices:
        publish(rest)
    pid = os.fork()
    if pid == 0:
        try:
            consume({**config, "until_idle": 1.0}, None)
        finally:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    report["final_exit"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
