"""headwater query, snapshots."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, platform, print_json, table


def register(app: typer.Typer) -> None:
    app.command("query")(query)
    app.command("snapshots")(snapshots)


def query(
    sql: Annotated[str, typer.Argument(help="DuckDB SQL; products are tables by name.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot id or ISO timestamp (time travel).")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in the table view.")] = 50,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run SQL over the lakehouse tables (current snapshot, or --as-of for time travel)."""
    result = platform(project).query(sql, as_of=as_of)
    if json:
        print_json(result.to_pylist())
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.column_names)
        for row in result.to_pylist():
            writer.writerow(row.values())
    else:
        shown = result.slice(0, limit).to_pylist()
        console().print(table(None, result.column_names, [list(r.values()) for r in shown]))
        if result.num_rows > limit:
            console(stderr=True).print(f"({result.num_rows:,} rows, {limit} shown; --limit N or --csv for more)")


def snapshots(product: Annotated[str, typer.Argument(help="Product name.")],
              project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """A product table's snapshots: when, operation, run, rows (for --as-of)."""
    snaps = platform(project).snapshots(product)
    if json:
        print_json([s.to_dict() for s in snaps])
        return
    rows = [[s.snapshot_id, s.committed_at.strftime("%Y-%m-%d %H:%M:%S"), s.operation,
             s.summary.get("headwater.partition") or "", s.rows,
             (s.run_id or "")[:8]] for s in snaps]
    console().print(table(product, ["snapshot", "committed", "operation", "partition", "rows", "run"], rows))
