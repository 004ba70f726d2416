"""The CDC lane as a separate process for the crash harness, killed with SIGKILL at random points.

Started through a multiprocessing forkserver that has imported headwater already, so each of the
many restarts costs milliseconds rather than a fresh interpreter's imports.
"""

from __future__ import annotations

import multiprocessing

PRELOAD = ["headwater.platform", "headwater.lanes.cdc.service", "headwater.lanes.cdc.lane",
           "headwater.sources.postgres", "headwater.sources.pg_types", "headwater.sources.pg_catalog",
           "headwater.ledger.store", "headwater.ledger.migrate", "headwater.storage.lakehouse",
           "headwater.lanes.cdc.rewrite", "pyiceberg.table", "pyiceberg.catalog.sql",
           "pyiceberg.io.pyarrow", "pyarrow.compute", "pyarrow.parquet", "sqlalchemy", "alembic",
           "alembic.command", "psycopg", "duckdb"]


def work(project: str, max_batch: int) -> None:
    import sys

    from headwater.platform import Platform

    result = Platform(project).cdc.run("products_mirror", until_idle=60, max_batch=max_batch)
    print(f"lane stopped: {result.status} {result.error or ''}", file=sys.stderr, flush=True)
    sys.exit(0 if result.status == "success" else 3)


def context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx
