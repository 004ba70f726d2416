"""headwater diagnose: why a product (or any job or dataset) was late, from run metadata alone."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, platform, print_json


def register(app: typer.Typer) -> None:
    app.command("diagnose")(diagnose)


def diagnose(
    target: Annotated[str, typer.Argument(help="A product, or any OpenLineage job or dataset.")],
    run: Annotated[str | None, typer.Option("--run", help="A headwater run id or an OpenLineage runId.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Diagnose the latest run finished by this time (ISO-8601).")] = None,
    audience: Annotated[str, typer.Option(help="engineer (evidence), manager (impact, owners, next steps) "
                                               "or executive (one paragraph).")] = "engineer",
    cost_per_hour: Annotated[float | None, typer.Option("--cost-per-hour",
                                                           help="Override the product's or tier's cost of delay.")] = None,
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
    for line in render(report, audience):
        out.print(line, soft_wrap=False)
