"""headwater query, snapshots."""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, platform, print_json, table

if TYPE_CHECKING:
    import pyarrow as pa


def register(app: typer.Typer) -> None:
    app.command("query")(query)
    app.command("snapshots")(snapshots)


def query(
    sql: Annotated[str, typer.Argument(help="DuckDB SQL; products are tables by name.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot id or ISO timestamp (time travel).")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (every row; LF line endings).")] = False,
    limit: Annotated[int, typer.Option(min=0, help="Rows shown in the table view.")] = 50,
    project: ProjectOpt = None,
    json: Annotated[bool, typer.Option(
        "--json", help="Print JSON: a list of objects, one per row, keyed by column name; a repeated "
                       "name is keyed a_1, a_2, ... (noted on stderr); NaN and infinity print as null.")] = False,
) -> None:
    """Run SQL over the lakehouse tables (current snapshot, or --as-of for time travel).

    Every result column is printed, in order, even when two columns share a name."""
    result = platform(project).query(sql, as_of=as_of)
    names = result.column_names
    if json:
        keys = _unique_keys(names)
        renamed = [f"{n} -> {k}" for n, k in zip(names, keys) if n != k]
        if renamed:
            console(stderr=True).print(f"note: repeated column names renamed in the JSON keys: "
                                       f"{', '.join(renamed)}", markup=False, soft_wrap=True)
        print_json([dict(zip(keys, _finite(row))) for row in _rows(result)])
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(_rows(result))
    else:
        console().print(table(None, names, list(_rows(result.slice(0, limit)))))
        if result.num_rows > limit:
            console(stderr=True).print(f"({result.num_rows:,} rows, {limit} shown; --limit N or --csv for more)")


def _rows(result: pa.Table) -> Iterator[list]:
    """Rows as lists, by column position (``to_pylist`` gives dicts, which merge same-named columns)."""
    for batch in result.to_batches():
        yield from (list(row) for row in zip(*(column.to_pylist() for column in batch.columns)))


def _unique_keys(names: list[str]) -> list[str]:
    """``names`` with each repeat suffixed _1, _2, ... (the first kept; a suffix never takes the
    name of another result column)."""
    keys: list[str] = []
    for name in names:
        key, n = name, 0
        while key in keys or (key != name and key in names):
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    return keys


def _finite(value):
    """``value`` with NaN and infinite floats, at any depth, as None: JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):  # lists, and a map's (key, value) pairs
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


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
