"""Demo stage 'build': run every batch product and show what was built."""

from __future__ import annotations

import time
from pathlib import Path


def stage(platform, console) -> dict:
    from headwater.cli.output import human_bytes, table

    started = time.perf_counter()
    result = platform.run(trigger="demo")
    statuses = platform.status()
    rows = sum(s.rows or 0 for s in statuses)
    warehouse = Path(platform.lakehouse.warehouse)
    size = sum(f.stat().st_size for f in warehouse.rglob("*") if f.is_file()) if warehouse.exists() else 0
    summary = {"run_id": result.run_id, "status": result.status,
               "products": len(result.steps),
               "succeeded": sum(s.status.value == "success" for s in result.steps),
               "rows": rows, "warehouse": str(warehouse), "warehouse_bytes": size,
               "seconds": round(time.perf_counter() - started, 2)}
    if console is not None:
        console.print(table(f"build: {summary['succeeded']}/{summary['products']} products, "
                            f"{rows:,} rows, {human_bytes(size)} of Iceberg tables in {summary['seconds']}s",
                            ["product", "status", "rows", "seconds", "error"],
                            [[s.product, s.status.value, f"{s.rows_written:,}" if s.rows_written is not None else "",
                              f"{s.seconds:.2f}" if s.seconds else "", s.error or ""] for s in result.steps]))
        if "fct_daily_revenue" in platform.project.products and result.ok:
            top = platform.query("SELECT country, sum(gross_revenue) AS revenue FROM fct_daily_revenue "
                                 "GROUP BY country ORDER BY revenue DESC LIMIT 5")
            console.print(table("revenue by country (top 5, fct_daily_revenue)", top.column_names,
                                [list(r.values()) for r in top.to_pylist()]))
    return summary
