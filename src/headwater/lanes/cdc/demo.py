"""Demo stage 'cdc': orders, payments and returns arrive through change data capture.

With ``HEADWATER_DEMO_PG_URL`` set (a PostgreSQL with wal2json and wal_level=logical), the rows
are loaded into real tables, changed by real transactions and mirrored through a replication
slot. Otherwise the Debezium change logs generated from the raw data are replayed, so the
embedded demo needs no server. Either way the mirrors must equal the raw exports row for row.
"""

from __future__ import annotations

import os
import time

PRODUCTS = (("orders_cdc", "raw_orders", "order_id"), ("payments_cdc", "raw_payments", "payment_id"),
            ("returns_cdc", "raw_returns", "return_id"))


def stage(platform, console) -> dict:
    from headwater.examples.ecommerce._cdc import write_change_logs

    started = time.perf_counter()
    present = [p for p in PRODUCTS if p[0] in platform.project.products]
    if not present:
        return {"skipped": "the project has no CDC products"}
    pg_url = os.environ.get("HEADWATER_DEMO_PG_URL")
    logs = platform.root / "cdc"
    if pg_url:
        from headwater.lanes.cdc.demo_pg import run_postgres

        results = run_postgres(platform, pg_url, present)
        mode = "postgres"
    else:
        if not (logs / "orders.jsonl").exists():
            write_change_logs(platform.root / "data", logs)
        results = {name: platform.cdc.run(name, until_idle=0) for name, _, _ in present}
        mode = "debezium"
    summary: dict = {"source": mode, "products": {}}
    for name, raw, key in present:
        result = results[name]
        # the mirror must hold exactly the exported rows: compare both ways
        cols = ", ".join(c for c in platform.query(f"SELECT * FROM {raw} LIMIT 0").column_names)
        diff = platform.query(
            f"SELECT (SELECT count(*) FROM (SELECT {cols} FROM {name} EXCEPT SELECT {cols} FROM {raw})) "
            f"+ (SELECT count(*) FROM (SELECT {cols} FROM {raw} EXCEPT SELECT {cols} FROM {name})) AS d"
        ).column("d")[0].as_py()
        again = platform.cdc.run(name, until_idle=0) if mode == "debezium" else None
        summary["products"][name] = {"status": result.status, "changes": result.changes,
                                     "commits": result.batches, "upserts": result.upserts,
                                     "deletes": result.deletes, "rows_differing_from_source": diff,
                                     "replayed_changes": again.changes if again else None,
                                     "error": result.error}
    summary["seconds"] = round(time.perf_counter() - started, 2)
    if console is not None:
        from headwater.cli.output import table

        console.print(table(f"cdc: {', '.join(n for n, _, _ in present)} mirrored from {mode} "
                            f"in {summary['seconds']}s",
                            ["product", "status", "changes", "commits", "deleted", "rows ≠ source",
                             "re-run applies"],
                            [[n, s["status"], f"{s['changes']:,}", s["commits"], s["deletes"],
                              s["rows_differing_from_source"], s["replayed_changes"]]
                             for n, s in summary["products"].items()]))
    return summary
