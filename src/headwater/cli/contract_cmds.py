"""headwater contract check|diff|compat|lint|import|export, and headwater quarantine list|show|replay."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from headwater.cli.output import JsonOpt, ProjectOpt, console, plain, platform, print_json, styled, table

contract_app = typer.Typer(help="Data contracts: check, change control, interop.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Rows diverted by contracts: list, show, replay.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")
    app.add_typer(quarantine_app, name="quarantine")


@contract_app.command("check")
def check(product: Annotated[str, typer.Argument(help="Product whose table to check.")],
          as_of: Annotated[str | None, typer.Option(help="Snapshot id or ISO time.")] = None,
          samples: Annotated[int, typer.Option(min=0, help="Failing rows shown per rule.")] = 5,
          project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Validate a table's current data: each rule with status, failure count and sample rows."""
    run = platform(project).contracts.check(product, as_of=as_of, samples=samples)
    if json:
        print_json(run.to_dict())
    else:
        out = console()
        rows = [[r.check.id, r.check.kind, r.check.severity.value, _status(r.status.value),
                 f"{r.failed_rows:,}" if r.check.level != "schema" else "", r.message or ""]
                for r in run.results]
        out.print(table(f"{product} contract {run.version} over {run.rows:,} rows (snapshot {run.snapshot_id})",
                        ["rule", "kind", "severity", "status", "failing", "detail"], rows))
        for r in run.results:
            if r.samples:
                out.print(f"[bold]{escape(r.check.id)}[/] samples: {escape(plain(r.samples))}", soft_wrap=True)
    raise SystemExit(0 if run.passed else 1)  # typer.Exit is swallowed under standalone_mode=False


def _status(value: str) -> str:
    return styled({"passed": "[green]passed[/]", "failed": "[red]failed[/]", "warned": "[yellow]warned[/]",
                   "error": "[red]error[/]"}.get(value, escape(value)))


@contract_app.command("diff")
def diff(base: Annotated[str, typer.Option(help="Git ref to compare with.")] = "HEAD",
         project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Classify every contract change since BASE; a breaking change without a major bump fails."""
    from headwater.contracts.diff import diff_project

    report = diff_project(platform(project), base)
    if json:
        print_json(report.to_dict())
    else:
        out = console()
        for c in report.contracts:
            mark = "[red]ERROR[/]" if c.error else ("[yellow]breaking[/]" if c.breaking else "[green]ok[/]")
            out.print(f"{mark} {escape(c.product)}: {c.old_version or '-'} -> {c.new_version or '-'}")
            for ch in c.changes:
                out.print(f"    {'BREAKING' if ch.breaking else 'non-breaking'}: {ch.what} ({ch.reason})",
                          markup=False, soft_wrap=True)
            if c.error:
                out.print(f"    {c.error}", markup=False)
            for a in c.affected:
                out.print(f"    affects {a['kind']} {a['name']} (owner {a.get('owner') or '?'})"
                          + (f" via {a['via']}" if a.get("via") else ""), markup=False)
        if not report.contracts:
            out.print("no contract changed")
    raise SystemExit(1 if report.failed else 0)  # typer.Exit is swallowed under standalone_mode=False


@contract_app.command("compat")
def compat(new: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                               help="The new schema or contract.")],
           old: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True,
                                                     help="Older versions, newest first.")],
           format: Annotated[str, typer.Option("--format", help="avro, jsonschema or headwater.")] = "avro",
           mode: Annotated[str, typer.Option(help="BACKWARD, FORWARD, FULL, *_TRANSITIVE or NONE.")] = "BACKWARD",
           json: JsonOpt = False) -> None:
    """Schema Registry compatibility between NEW and OLD (and OLDER) documents."""
    from headwater.contracts.compat import check_files

    result = check_files(format, mode, new, old)
    if json:
        print_json(result.to_dict())
    else:
        out = console()
        out.print("[green]compatible[/]" if result.compatible else "[red]incompatible[/]")
        for m in result.messages:
            out.print(f"  {m}", markup=False, soft_wrap=True)
    raise SystemExit(0 if result.compatible else 1)  # typer.Exit is swallowed under standalone_mode=False


@contract_app.command("lint")
def lint(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                              help="A headwater, ODCS v3 or DCS contract file.")],
         json: JsonOpt = False) -> None:
    """Validate a contract file against its schema, with file:line messages."""
    from headwater.contracts.lint import lint_file

    report = lint_file(file)
    if json:
        print_json(report.to_dict())
    else:
        out = console()
        out.print(f"{escape(str(file))}: {report.format} — " + ("[green]valid[/]" if report.valid else "[red]invalid[/]"))
        for p in report.problems:
            out.print(f"  {p}", markup=False, soft_wrap=True)
    raise SystemExit(0 if report.valid else 1)  # typer.Exit is swallowed under standalone_mode=False


@contract_app.command("import")
def import_(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                                 help="An ODCS v3 or DCS 1.x file.")],
            format: Annotated[str, typer.Option("--format", help="odcs or dcs.")] = "odcs",
            out: Annotated[Path | None, typer.Option(help="Write here (default: stdout).")] = None,
            product: Annotated[str | None, typer.Option(help="Which schema object/model to import.")] = None) -> None:
    """Convert an ODCS v3 or DCS contract into a headwater contract."""
    from headwater.contracts.interop import import_file

    text = import_file(file, format, product)
    _write(out, text)


@contract_app.command("export")
def export(product: Annotated[str, typer.Argument(help="Product whose contract to export.")],
           format: Annotated[str, typer.Option("--format", help="odcs.")] = "odcs",
           out: Annotated[Path | None, typer.Option(help="Write here (default: stdout).")] = None,
           project: ProjectOpt = None) -> None:
    """Export a product's contract as an Open Data Contract Standard v3 document."""
    from headwater.contracts.interop import export_contract

    text = export_contract(platform(project), product, format)
    _write(out, text)


def _write(out: Path | None, text: str) -> None:
    """``text`` to the file ``out`` (its folder must exist), else to stdout."""
    if out is None:
        typer.echo(text, nl=False)
        return
    from headwater.errors import HeadwaterError

    if not out.parent.is_dir():
        raise HeadwaterError(f"cannot write {out}: the folder {out.parent} does not exist",
                             fix=f"create it first (mkdir -p {out.parent}) or choose another --out")
    if out.is_dir():
        raise HeadwaterError(f"cannot write {out}: it is a folder", fix="give a file name, e.g. --out "
                             f"{out / 'contract.yaml'}")
    out.write_text(text)
    console(stderr=True).print(f"wrote {out}", markup=False)


@quarantine_app.command("list")
def q_list(product: Annotated[str | None, typer.Argument(help="One product (default: all).")] = None,
           project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Quarantined rows per product and rule."""
    items = platform(project).contracts.quarantine_list(product)
    if json:
        print_json(items)
        return
    rows = [[i["product"], f"{i['rows']:,}", ", ".join(f"{k}: {v}" for k, v in i["rules"].items()),
             i["newest"].isoformat(timespec="seconds")] for i in items]
    console().print(table("quarantine", ["product", "rows", "rules", "newest"], rows))


@quarantine_app.command("show")
def q_show(product: Annotated[str, typer.Argument()],
           rule: Annotated[str | None, typer.Option(help="Only rows that broke this rule.")] = None,
           limit: Annotated[int, typer.Option(min=0, help="At most this many rows (0: all).")] = 20,
           project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Quarantined rows of PRODUCT with the rules they broke and why (the rows as written: unmasked)."""
    hw = platform(project)
    rows = hw.contracts.quarantine_rows(product, rule, limit or None)
    if rule is not None and not rows.num_rows:
        known = {k for i in hw.contracts.quarantine_list(product) for k in i["rules"]}
        if rule not in known:
            from headwater.errors import NotFoundError

            raise NotFoundError(f"no quarantined row of {product!r} broke a rule {rule!r}",
                                fix="the rules with quarantined rows: " + (", ".join(sorted(known)) or "none"))
    data = rows.to_pylist()
    if json:
        print_json(data)
        return
    cols = [c for c in rows.column_names if not c.startswith("_hw_")]
    out = [[r["_hw_id"], ", ".join(r["_hw_rules"]), "; ".join(r["_hw_reasons"]),
            plain({c: r[c] for c in cols})] for r in data]
    console().print(table(f"{product}__quarantine", ["id", "rules", "reasons", "row"], out))


@quarantine_app.command("replay")
def q_replay(product: Annotated[str, typer.Argument()],
             id: Annotated[list[str] | None, typer.Option("--id", help="Only these row ids.")] = None,
             project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Re-submit quarantined rows through the current contract; rows that pass move in exactly once."""
    result = platform(project).contracts.replay(product, id or None)
    if json:
        print_json(result.to_dict())
    else:
        console().print(f"{product}: {result.moved} row(s) moved into the table, {result.still_failing} still "
                        f"failing" + (" (resumed an interrupted replay)" if result.resumed else "")
                        + (f"; blocked: {result.blocked}" if result.blocked else "")
                        + (f"; {result.left_to_lane} row(s) the streaming lane refused (late or without an event "
                           "time) are left in quarantine: re-ingest them to retry" if result.left_to_lane else ""),
                        markup=False)
    raise SystemExit(1 if result.blocked else 0)  # typer.Exit is swallowed under standalone_mode=False
