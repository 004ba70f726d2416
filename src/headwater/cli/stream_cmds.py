"""headwater ingest, stream run, stream status."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, platform, plural, print_json, table


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    stream = typer.Typer(help="Streaming products: run a consumer, show lag and watermarks.",
                         no_args_is_help=True)
    stream.command("run")(run)
    stream.command("status")(status)
    app.add_typer(stream, name="stream")


def ingest(
    product: Annotated[str, typer.Argument(help="Streaming product whose inbox receives the events.")],
    file: Annotated[str, typer.Argument(help="JSON lines file, or - for standard input.")],
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Append JSON-lines events to a product's durable inbox (fsynced before this returns).

    All or nothing: every line is checked first, and a bad line (named by its number) appends
    nothing, so the fixed file can simply be ingested again."""
    from headwater.errors import HeadwaterError

    hw = platform(project)
    inbox = hw.streaming.inbox(product)
    if file != "-" and not Path(file).is_file():
        raise HeadwaterError(f"no file {file!r}", fix="give a JSON lines file, or - to read standard input")
    # every line is checked before anything is appended: a bad line appends nothing
    if file == "-":
        done = inbox.append_stream(sys.stdin.buffer, where="standard input")
    else:
        with open(file, "rb") as fh:
            done = inbox.append_stream(fh, where=file)
    records, first, end = done.records, done.first_offset, done.end_offset
    out = {"product": product, "records": records, "first_offset": first, "end_offset": end,
           "backlog_bytes": inbox.backlog_bytes()}
    if json:
        print_json(out)
    else:
        console().print(f"{plural(records, 'event')} appended to the inbox of {product} "
                        f"(backlog {out['backlog_bytes']:,} bytes)")


def run(
    product: Annotated[str, typer.Argument(help="Streaming product to consume.")],
    until_idle: Annotated[float | None, typer.Option(
        "--until-idle", min=0, help="Stop after this many seconds without events.")] = None,
    max_events: Annotated[int | None, typer.Option(
        "--max-events", min=1, help="Stop after this many events (at least 1).")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Consume a stream into its table: micro-batches committed exactly once (Ctrl-C stops)."""
    hw = platform(project)
    err = console(stderr=True)
    progress = None
    last = [0.0]
    if not json and sys.stderr.isatty():
        def progress(stats):
            now = time.monotonic()
            if now - last[0] < 0.5:
                return
            last[0] = now
            s = stats.to_dict()
            err.print(f"\r{product}: {s['rows_in']:,} events  {s['events_per_second']:,.0f}/s  "
                      f"written {s['written']:,}  late {s['late']:,}  dup {s['duplicates']:,}  "
                      f"watermark {s['watermark'] or '-'}", end="", soft_wrap=True, highlight=False)
    result = hw.streaming.run(product, until_idle=until_idle, max_events=max_events, progress=progress,
                              command=" ".join(sys.argv[1:]))
    if progress is not None:
        err.print()
    if json:
        print_json(result.to_dict())
    else:
        s = result.stats
        mark = "[green]ok[/]" if result.status == "success" else "[red]FAILED[/]"
        console().print(f"{mark} {product}: {plural(s['rows_in'], 'event')} in {plural(s['batches'], 'micro-batch')}, "
                        f"{s['written']:,} written, {plural(s['duplicates'], 'duplicate')}, {s['late']:,} late, "
                        f"{s['events_per_second']:,.0f} events/s; watermark {s['watermark'] or '-'}")
        if result.error:
            console(stderr=True).print(f"Error: {result.error}" + (f"\n  fix: {result.fix}" if result.fix else ""),
                                       markup=False)
    if result.status != "success":
        raise typer.Exit(1)


def status(
    products: Annotated[list[str] | None, typer.Argument(help="Products (default: every streaming product).")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Lag, watermark, late and duplicate rates and throughput of each streaming product."""
    hw = platform(project)
    rows = hw.streaming.status(products)
    if json:
        print_json([r.to_dict() for r in rows])
        return
    out = []
    for r in rows:
        lag = ", ".join(" ".join(f"{v:,} {k.split('_')[0]}" for k, v in list(d.items())[:1] if v is not None)
                        for d in r.lag.values()) or "; ".join(r.notes)
        out.append([r.product, r.source, r.watermark or "-", lag, f"{r.totals.get('rows_in', 0):,}",
                    f"{r.late_rate:.2%}", f"{r.duplicate_rate:.2%}",
                    f"{r.events_per_second:,.0f}/s" if r.events_per_second is not None else "", r.last_step or ""])
    console().print(table("streams", ["product", "source", "watermark", "lag", "events", "late",
                                      "duplicates", "throughput", "last step"], out))

