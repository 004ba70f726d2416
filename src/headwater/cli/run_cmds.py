"""headwater run, status, runs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from headwater.cli.output import (
    JsonOpt,
    ProjectOpt,
    ago,
    console,
    human_bytes,
    platform,
    print_json,
    table,
)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("status")(status)
    app.command("runs")(runs)


def run(
    products: Annotated[list[str] | None, typer.Argument(help="Products to run (default: all batch products).")] = None,
    partition: Annotated[str | None, typer.Option(help="Run one partition (YYYY-MM-DD) of partitioned products.")] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild tables whole (allows breaking schema changes).")] = False,
    upstream: Annotated[bool, typer.Option("--upstream", help="Also run the products the named ones read.")] = False,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run products in dependency order; each writes one atomic Iceberg commit."""
    hw = platform(project)
    order = hw.plan(products, upstream)
    out = console(stderr=True)
    if json or not sys.stderr.isatty():
        result = hw.run(products, partition=partition, full_refresh=full_refresh, upstream=upstream,
                        command=" ".join(sys.argv[1:]))
    else:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=out, transient=False) as bar:
            task = bar.add_task("running", total=len(order))
            active: set[str] = set()

            def progress(event, step):
                if event == "start":
                    active.add(step.product)
                else:
                    active.discard(step.product)
                    bar.advance(task)
                    mark = {"success": "[green]ok[/]", "failed": "[red]FAILED[/]",
                            "skipped": "[yellow]skipped[/]"}[step.status.value]
                    bar.console.print(f"  {mark} {step.product}"
                                      + (f"  {step.rows_written:,} rows" if step.rows_written is not None else ""))
                bar.update(task, description=", ".join(sorted(active)) or "running")

            result = hw.run(products, partition=partition, full_refresh=full_refresh, upstream=upstream,
                            progress=progress, command=" ".join(sys.argv[1:]))
    if json:
        print_json(result.to_dict())
    else:
        rows = [[s.product, s.status.value, f"{s.rows_written:,}" if s.rows_written is not None else "",
                 f"{s.seconds:.2f}s" if s.seconds is not None else "",
                 (s.error or "") + (f"\nfix: {s.fix}" if s.fix else "")] for s in result.steps]
        console().print(table(f"run {result.run_id}: {result.status}",
                              ["product", "status", "rows", "time", "error"], rows))
    if not result.ok:
        raise typer.Exit(1)


def status(project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Each product's last run, rows, data time and snapshot."""
    hw = platform(project)
    statuses = hw.status()
    if json:
        print_json([s.to_dict() for s in statuses])
        return
    now = hw.clock.now()
    rows = [[s.product, s.lane, s.tier, s.owner, s.last_status or "never run", ago(s.last_run_at, now),
             f"{s.rows:,}" if s.rows is not None else "", s.data_time.strftime("%Y-%m-%d %H:%M") if s.data_time else "",
             s.snapshot_id or "", s.error or ""] for s in statuses]
    console().print(table(f"{hw.project.name}: {len(statuses)} products",
                          ["product", "lane", "tier", "owner", "last", "when", "rows", "data time",
                           "snapshot", "error"], rows))


def runs(limit: Annotated[int, typer.Option(min=1, help="How many runs.")] = 20,
         project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Recent runs from the ledger, with their steps' totals."""
    hw = platform(project)
    found = hw.ledger.runs(limit)
    data = []
    for r in found:
        steps = hw.ledger.steps(run_id=r.run_id)
        data.append({"run_id": r.run_id, "trigger": r.trigger, "status": r.status,
                     "started_at": r.started_at, "finished_at": r.finished_at, "steps": len(steps),
                     "failed": sum(s.status == "failed" for s in steps),
                     "rows_written": sum(s.rows_written or 0 for s in steps),
                     "bytes_written": sum(s.bytes_written or 0 for s in steps),
                     "cpu_seconds": round(sum(s.cpu_seconds or 0 for s in steps), 3)})
    if json:
        print_json(data)
        return
    rows = [[d["run_id"], d["trigger"], d["status"], d["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
             d["steps"], d["failed"], f"{d['rows_written']:,}", human_bytes(d["bytes_written"]),
             d["cpu_seconds"]] for d in data]
    console().print(table("runs", ["run", "trigger", "status", "started", "steps", "failed", "rows",
                                   "written", "cpu s"], rows))
