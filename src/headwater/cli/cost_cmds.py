"""headwater cost [trend|waste|budgets], headwater retention plan|apply."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, platform, print_json, table

cost_app = typer.Typer(help="Cost showback by product, domain, tier or owner; trends, budgets, waste.",
                       invoke_without_command=True)
retention_app = typer.Typer(help="Expire snapshots past retention and delete unreferenced files.",
                            no_args_is_help=True)

PeriodOpt = Annotated[str, typer.Option("--period", help="Window ending now, e.g. 30d, 7d, 90d.")]
LONGEST = "36500d"  # a century: longer than any ledger, and far from datetime's limits


def register(app: typer.Typer) -> None:
    app.add_typer(cost_app, name="cost")
    app.add_typer(retention_app, name="retention")


def _duration(text: str, option: str):
    """``text`` as a positive timedelta no longer than a century, or an error naming ``option``."""
    from datetime import timedelta

    from headwater.errors import HeadwaterError
    from headwater.spec.types import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise HeadwaterError(f"{option}: {exc}", fix=f"give {option} as a number and a unit, e.g. 30d") from None
    if value <= timedelta(0):
        raise HeadwaterError(f"{option} {text!r} is not a positive duration", fix=f"give e.g. {option} 30d")
    if value > parse_duration(LONGEST):
        raise HeadwaterError(f"{option} {text!r} is longer than {LONGEST} (a century)",
                             fix=f"give a shorter {option}, e.g. 365d")
    return value


def _money(value: float | None, currency: str = "") -> str:
    if value is None:
        return ""
    text = f"{value:,.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2e}"
    return f"{text} {currency}".strip()


def _gb(value: float) -> str:
    from headwater.cli.output import human_bytes

    return human_bytes(int(round(value * 1024 ** 3)))


@cost_app.callback()
def showback(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="product | domain | tier | owner")] = "product",
    period: Annotated[str | None, typer.Option(
        "--period", help="Window ending now, e.g. 30d, 7d, 90d (default: 30d).", show_default=False)] = None,
    month: Annotated[str | None, typer.Option("--month", help="A calendar month instead of --period, "
                                                             "e.g. 2026-10.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (every field).")] = False,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Showback for the period: who pays for what (every field with --json or --csv)."""
    if ctx.invoked_subcommand is not None:
        return
    from headwater.cost.attribution import COLUMNS
    from headwater.errors import HeadwaterError

    if month is not None and period is not None:
        raise HeadwaterError("give --month or --period, not both",
                             fix="--month 2026-10 is that calendar month; --period 30d the 30 days up to now")
    period = period or "30d"
    report = platform(project).cost.showback(by, _duration(period, "--period"), month=month)
    if json:
        print_json(report.to_dict())
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        for line in report.lines:
            writer.writerow([getattr(line, c) for c in COLUMNS])
    else:
        cur = report.currency
        out = console()
        span = month or period
        for part in showback_tables(report, f"cost by {by}, {span} to "
                                            f"{report.end:%Y-%m-%d %H:%M} UTC: {_money(report.total, cur)}"):
            out.print(part)
        if report.unattributed:
            out.print(f"not in any line: {_money(report.unattributed, cur)} of control plane for "
                      "time before any product existed", markup=False)


def showback_tables(report, title: str) -> list:
    """Every showback field a person reads, in two tables that fit a terminal (the demo uses them)."""
    labels = [(h, a) for h, a in (("domain", "domain"), ("SLA tier", "tier"), ("owner", "owner"))
              if a != report.by]  # the grouping key is the first column already
    who = table(title, [report.by] + [h for h, _ in labels] + ["retention tier", "runs", "idle h"],
                [[line.key] + [getattr(line, a) for _, a in labels]
                 + [line.retention_tier, line.runs, f"{line.idle_hours:.3f}"] for line in report.lines])
    what = table(None, [report.by, "storage", "CPU h", "read", "egress", "per run", "per 1k rows", "total"],
                 [[line.key, _gb(line.storage_gb), f"{line.compute_cpu_hours:.4f}", _gb(line.read_volume_gb),
                   _gb(line.egress_gb), _money(line.cost_per_run), _money(line.cost_per_1k_updates),
                   _money(line.total_cost)] for line in report.lines])
    for t in (who, what):
        t.columns[0].no_wrap = True  # names stay whole; narrow terminals fold the figures instead
    return [who, what]


@cost_app.command("trend")
def trend(
    by: Annotated[str, typer.Option("--by", help="product | domain | tier | owner")] = "product",
    period: PeriodOpt = "90d",
    bucket: Annotated[str, typer.Option("--bucket", help="Bucket size, e.g. 1d, 7d.")] = "7d",
    top: Annotated[int, typer.Option("--top", min=1, help="Rows of the growth ranking shown.")] = 10,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Cost per bucket, and what grew most (second half of the period vs the first)."""
    report = platform(project).cost.trend(by, _duration(period, "--period"), _duration(bucket, "--bucket"))
    if json:
        print_json(report.to_dict())
        return
    heads = [b.strftime("%m-%d") for b in report.buckets]
    rows = [[key] + [_money(v) for v in values] for key, values in
            sorted(report.series.items(), key=lambda kv: -sum(kv[1]))]
    console().print(table(f"cost per {bucket} by {by}", [by] + heads, rows))
    growth = [[g["key"], _money(g["before"]), _money(g["after"]),
               "new" if g["growth"] is None else f"{g['growth']:+.0%}"] for g in report.growth[:top]]
    console().print(table("growth ranking", [by, "first half", "second half", "growth"], growth))


@cost_app.command("waste")
def waste(
    unread: Annotated[str | None, typer.Option("--unread", help="No reads for this long, e.g. 30d "
                                                  "(default: cost.unread_after).")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """The kill list: unread tables, unchanged runs, over-tiered products, excess history."""
    report = platform(project).cost.waste(_duration(unread, "--unread") if unread else None)
    if json:
        print_json(report.to_dict())
        return
    cur = report.currency
    rows = [[i, f.kind, f.product, f.owner, _money(f.monthly_cost, cur), _money(f.savings_per_month, cur),
             f.detail] for i, f in enumerate(report.findings, 1)]
    out = console()
    out.print(table(f"waste: {len(rows)} findings, {_money(report.savings_per_month, cur)} a month to save",
                    ["#", "kind", "product", "owner", "cost/month", "saving/month", "why"], rows))
    for i, f in enumerate(report.findings, 1):
        out.print(f"{i}. fix: {f.fix}", markup=False, soft_wrap=True)


@cost_app.command("budgets")
def budgets(
    send: Annotated[bool, typer.Option("--send/--no-send", help="Send new alerts to the sinks.")] = True,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """This month's budgets: actual, forecast from the trend, and alerts at 80%/100%."""
    report = platform(project).cost.budgets(send=send)
    if json:
        print_json(report.to_dict())
        return
    cur = report.currency
    rows = [[s.scope, s.name, _money(s.budget, cur), _money(s.actual, cur),
             f"{s.actual / s.budget:.0%}" if s.budget else "", _money(s.forecast, cur),
             f"{s.forecast / s.budget:.0%}" if s.budget else "", s.status] for s in report.statuses]
    out = console()
    out.print(table(f"budgets {report.month}", ["scope", "name", "budget", "actual", "", "forecast", "",
                                                "status"], rows))
    if not report.statuses:
        out.print("no budgets: set cost.budgets.domains in headwater.yaml or cost.budget_per_month "
                  "on a product")
    for alert in report.alerts:
        out.print(f"{'sent' if send else 'would send'} [{alert.severity}] {alert.message}", markup=False)
    for error in report.delivery_errors:
        console(stderr=True).print(f"alert not delivered: {error}", markup=False)


def _retention(report, json: bool) -> None:
    if json:
        print_json(report.to_dict())
        return
    cur = report.currency
    rows = [[p.product, p.keep_for, p.min_snapshots, p.retention_tier, p.snapshots,
             len(p.expire_ids), len(p.files), _gb(p.bytes / 1024 ** 3), _money(p.monthly_cost, cur)]
            + ([_gb((p.freed_bytes or 0) / 1024 ** 3)] if report.applied else [])
            for p in report.products]
    heads = ["product", "keep", "min", "tier", "snapshots", "expire", "files", "bytes", "cost/month"]
    title = (f"retention applied: freed {_gb((report.freed_bytes or 0) / 1024 ** 3)}" if report.applied
             else f"retention plan (dry run): {_gb(report.bytes / 1024 ** 3)} and "
                  f"{_money(report.monthly_cost, cur)} a month to free; 'headwater retention apply' does it")
    console().print(table(title, heads + (["freed"] if report.applied else []), rows))


ProductsArg = Annotated[list[str] | None, typer.Argument(help="Products (default: all).")]


@retention_app.command("plan")
def retention_plan(products: ProductsArg = None, project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """What expiring snapshots past retention would free (changes nothing)."""
    _retention(platform(project).cost.retention_plan(products), json)


@retention_app.command("apply")
def retention_apply(
    products: ProductsArg = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really expire and delete (default: a dry run).")] = False,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Expire snapshots past retention and delete the files no live snapshot references."""
    service = platform(project).cost
    if not yes:
        _retention(service.retention_plan(products), json)
        if not json:
            console(stderr=True).print("dry run: nothing was deleted; add --yes to apply", markup=False)
        return
    _retention(service.retention_apply(products), json)
