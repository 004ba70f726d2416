"""headwater cdc run | status | replay."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from headwater.cli.output import (
    JsonOpt,
    ProjectOpt,
    ago,
    console,
    human_bytes,
    platform,
    plural,
    print_json,
    table,
)

cdc = typer.Typer(help="Change data capture: mirror PostgreSQL tables and Debezium streams into Iceberg.",
                  no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(cdc, name="cdc")


def _print_result(result, json: bool) -> None:
    if json:
        print_json(result.to_dict())
    else:
        out = console()
        mark = "[green]ok[/]" if result.status == "success" else "[red]FAILED[/]"
        out.print(f"{mark} {result.product}: {plural(result.changes, 'change')} in {plural(result.batches, 'commit')} "
                  f"({result.upserts:,} upserted, {result.deletes:,} deleted) in {result.seconds:.1f}s; "
                  f"position {position_text(result.position)}", highlight=False, soft_wrap=True)
        for change in result.schema_changes:
            out.print(f"  schema: {change['kind']} column {change['column']} ({change.get('new') or ''})")
        for reason, n in sorted(result.skipped.items()):
            out.print(f"  skipped {plural(n, 'event')}: {reason}", markup=False, highlight=False)
        if not result.changes and any(r.startswith("other table") for r in result.skipped):
            out.print(f"  no event of {result.product}'s table was read: is it the right log for "
                      "this product?", markup=False, highlight=False, soft_wrap=True)
        if result.error:
            out.print(f"[red]Error:[/] {result.error}", soft_wrap=True)
            if result.fix:
                out.print(f"  fix: {result.fix}", markup=False, soft_wrap=True)
    if result.status != "success":
        raise typer.Exit(1)


@cdc.command("run")
def run(
    product: Annotated[str, typer.Argument(help="The CDC product to mirror.")],
    until_idle: Annotated[float | None, typer.Option(
        "--until-idle", min=0, help="Stop after this many seconds without changes (default: run until stopped).")] = None,
    max_batch: Annotated[int, typer.Option(
        min=1, help="Changes per commit (whole transactions are never split).")] = 50_000,
    accept_schema_change: Annotated[bool, typer.Option(
        "--accept-schema-change", help="Apply a breaking source change (a dropped column) to the mirror.")] = False,
    resnapshot: Annotated[bool, typer.Option(
        "--resnapshot", help="PostgreSQL sources: take a new initial snapshot (a new slot) and replace "
                             "the mirror.")] = False,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Apply the source's changes in commit order, one Iceberg commit per batch of transactions."""
    result = platform(project).cdc.run(product, until_idle=until_idle, max_batch=max_batch,
                                       accept_schema_change=accept_schema_change, resnapshot=resnapshot,
                                       command=" ".join(["headwater", *sys.argv[1:]]))
    _print_result(result, json)


@cdc.command("replay")
def replay(
    file: Annotated[Path, typer.Argument(help="A Debezium JSON lines file.")],
    product: Annotated[str, typer.Option("--product", help="The CDC product to apply it to.")],
    max_batch: Annotated[int, typer.Option(min=1, help="Changes per commit.")] = 50_000,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Apply a Debezium change log to a product; replaying the same file again changes nothing."""
    _print_result(platform(project).cdc.replay(file, product, max_batch=max_batch), json)


@cdc.command("status")
def status(project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Per CDC product: last position and LSN, lag in bytes and seconds, apply rate."""
    hw = platform(project)
    rows = hw.cdc.status()
    if json:
        print_json([r.to_dict() for r in rows])
        return
    now = hw.clock.now()
    console().print(table("CDC products", [
        "product", "source", "last LSN / position", "committed", "rows", "lag", "lag (s)",
        "changes/s", "last run", "error"], [
        [r.product, _short(r.source), position_text(r.position, empty=""), ago(r.committed_at, now),
         f"{r.rows:,}" if r.rows is not None else "",
         human_bytes(r.lag_bytes) if r.lag_bytes is not None else
         (plural(r.lag_records, "event") if r.lag_records is not None else ""),
         f"{r.lag_seconds:,.1f}" if r.lag_seconds is not None else "",
         r.changes_per_second, r.last_status, r.error] for r in rows]))


def _short(source: str) -> str:
    kind, _, where = source.partition(":")
    return f"{kind}:{Path(where).name}" if where else kind


def position_text(position: dict[str, str], empty: str = "none committed") -> str:
    """A source position for people: 'offset 3036', 'LSN 0/16B3748', 'snapshot, LSN 0/1'."""
    if not position:
        return empty
    pos = {k: v for k, v in position.items() if k != "first"}
    if "lsn" in pos:
        phase = pos.get("phase")
        return (f"{phase}, " if phase and phase != "stream" else "") + f"LSN {pos['lsn']}"
    if list(pos) == ["0"]:
        return f"offset {pos['0']}"
    return ", ".join(f"{k} {v}" for k, v in sorted(pos.items()))

