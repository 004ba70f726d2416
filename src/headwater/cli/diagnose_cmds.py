"""headwater diagnose: why a product (or any job or dataset) was late, from run metadata alone."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, platform, print_json


def register(app: typer.Typer) -> None:
    app.command("diagnose")(diagnose)


def _cost(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(f"{value} is not a cost: give 0 or more, e.g. 250")
    return value


def diagnose(
    target: Annotated[str, typer.Argument(help="A product, or any OpenLineage job or dataset.")],
    run: Annotated[str | None, typer.Option("--run", help="A headwater run id or an OpenLineage runId.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Diagnose the latest run finished by this time (ISO-8601).")] = None,
    audience: Annotated[str, typer.Option(help="engineer (evidence), manager (impact, owners, next steps) "
                                               "or executive (one paragraph).")] = "engineer",
    cost_per_hour: Annotated[float | None, typer.Option(
        "--cost-per-hour", callback=_cost, help="Override the product's or tier's cost of delay (0 or more).")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Walk upstream from the symptom and rank what made it late, with cost and what to do."""
    from headwater.diagnose.render import AUDIENCES, render
    from headwater.errors import HeadwaterError
    from headwater.ledger.openlineage import parse_time

    if audience not in AUDIENCES:
        raise HeadwaterError(f"unknown audience {audience!r}", fix=f"use one of: {', '.join(AUDIENCES)}")
    if run and at:
        raise HeadwaterError("give --run or --at, not both", fix="--run picks one run; --at the latest before a time")
    when = None
    if at:
        try:
            when = parse_time(at)
        except ValueError:
            raise HeadwaterError(f"--at {at!r} is not a time", fix="write it as 2026-03-06T06:00:00Z") from None
    report = platform(project).diagnosis.diagnose(target, run=run, at=when, cost_per_hour=cost_per_hour)
    if json:
        print_json(report.to_dict())
        return
    out = console()
    for line in render(_known(report), audience):
        out.print(line, soft_wrap=False)


def _known(report):
    """The report for reading: evidence that is not known (None) is left out of the text, so it
    does not say 'runbook: None'; --json keeps every key."""
    from dataclasses import replace

    def drop(value):
        return {k: drop(v) for k, v in value.items() if v is not None} if isinstance(value, dict) else value

    return replace(report, findings=[replace(f, evidence=drop(f.evidence)) for f in report.findings])
