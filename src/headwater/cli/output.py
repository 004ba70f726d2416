"""Shared CLI options and output: --project, --json, tables, errors."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

ProjectOpt = Annotated[Path | None, typer.Option(
    "--project", "-p", help="Project folder (default: $HEADWATER_PROJECT or the current folder).",
    show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def platform(project: Path | None):
    from headwater.platform import Platform

    return Platform(project)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2) + "\n")


PIPED_WIDTH = 200  # rich assumes 80 columns when not on a terminal: tables piped to a file or grep wrapped


def console(stderr: bool = False):
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and not os.environ.get("COLUMNS")
    return Console(stderr=stderr, highlight=False, width=PIPED_WIDTH if wide else None)


def table(title: str | None, columns: list[str], rows: list[list[Any]]):
    """A rich table. Cells are shown as they are: ``[a-z]`` in a pattern is text, not markup
    (pass ``styled("[green]ok[/]")`` for a styled cell)."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    t = Table(title=escape(title) if title else title, title_justify="left", header_style="bold")
    for column in columns:
        t.add_column(escape(column), overflow="fold")
    for row in rows:
        t.add_row(*[v if isinstance(v, Text) else escape("" if v is None else str(v)) for v in row])
    return t


def styled(markup: str):
    """A table cell with rich markup (other cells are escaped)."""
    from rich.text import Text

    return Text.from_markup(markup)


def plural(count: int, noun: str) -> str:
    """'1 event', '2 events', '1 micro-batch', '3 micro-batches'."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}{'es' if noun.endswith('ch') else 's'}"


def plain(value: Any) -> str:
    """``value`` (rows, samples) as compact JSON for a terminal line: dates as ISO text, not reprs."""
    return json.dumps(value, default=_default, ensure_ascii=False)


def fail(exc) -> None:
    from rich.markup import escape

    from headwater.errors import SpecErrors

    err = console(stderr=True)
    if "--json" in sys.argv:
        print_json(exc.to_dict())
    elif isinstance(exc, SpecErrors):
        err.print(f"[bold red]Error:[/] {len(exc.errors)} problem(s) in the project", markup=True)
        for e in exc.errors:
            err.print(f"  [bold]{escape(str(e.location))}[/]: {escape(e.message)}", markup=True, soft_wrap=True)
            if e.fix:
                err.print(f"      fix: {e.fix}", soft_wrap=True, markup=False)
    else:
        err.print(f"[bold red]Error:[/] {escape(exc.message)}", markup=True, soft_wrap=True)
        if getattr(exc, "location", None) is not None:
            err.print(f"  at: {exc.location}", markup=False)
        if exc.fix:
            err.print(f"  fix: {exc.fix}", markup=False, soft_wrap=True)
    raise SystemExit(1)


def human_bytes(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return ""
    seconds = (now - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"
