"""headwater slo, alerts, incidents, metrics, anomalies: thin shells over Platform.observe."""

from __future__ import annotations

import math
import sys
from typing import Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, print_json, table

MAX_DAYS = 36500  # a century: more than any ledger holds, and far from timedelta's limit
AtOpt = Annotated[str | None, typer.Option(
    "--at", help="Evaluate at this time (ISO 8601, UTC if no zone), e.g. 2026-11-23T09:00Z.", show_default=False)]


def _platform(project, at: str | None = None):
    from headwater.platform import Platform

    if at is None:
        return Platform(project)
    from headwater.clock import FrozenClock

    return Platform(project, clock=FrozenClock(_parse_at(at)))


def _parse_at(text: str):
    from datetime import datetime, timezone

    from headwater.errors import HeadwaterError

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HeadwaterError(f"--at {text!r} is not an ISO 8601 time", fix="write e.g. --at 2026-11-23T09:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def register(app: typer.Typer) -> None:
    app.command("slo")(slo)
    app.command("alerts")(alerts)
    app.command("metrics")(metrics)
    app.command("anomalies")(anomalies)
    incidents = typer.Typer(help="Incidents: alerts sharing a root, with a timeline, MTTD, MTTR and a postmortem.",
                            no_args_is_help=True)
    incidents.command("list")(incidents_list)
    incidents.command("show")(incidents_show)
    incidents.command("ack")(incidents_ack)
    incidents.command("resolve")(incidents_resolve)
    incidents.command("postmortem")(incidents_postmortem)
    app.add_typer(incidents, name="incidents")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    return "".join(parts[:2]) or f"{secs}s"


def _td(value, missing: str = "-") -> str:
    """A timedelta (MTTD, MTTR) as 1h30m, not 1:30:00.553859."""
    return missing if value is None else _duration(value.total_seconds())


def _pct(value) -> str:
    return "" if value is None else f"{value:.3%}"


def _value(result) -> str:
    if result.value is None:
        return ""
    if result.unit == "seconds":
        return _duration(result.value)
    return _pct(result.value) if result.unit == "ratio" else f"{result.value:,.0f} {result.unit}"


def slo(
    product: Annotated[str | None, typer.Argument(help="One product (default: all).")] = None,
    at: AtOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """SLIs, objectives, error budget left and burn rates, per product."""
    hw = _platform(project, at)
    report = hw.observe.report([product] if product else None)
    composite = hw.observe.composite_availability(product) if product else None
    if json:
        print_json({"at": hw.clock.now(), "products": [r.to_dict() for r in report],
                    **({"composite_availability": composite} if composite else {})})
        return
    out = console()
    out.print(f"SLOs at {hw.clock.now().isoformat()}")
    for r in report:
        rows = []
        for name, s in r.slis.items():
            b = s.budget
            rates = " ".join(f"{w}:{v:.1f}" for w, v in s.burn.items() if v is not None and w in ("1h", "6h", "3d"))
            rows.append([name, s.status.value, _value(s), s.objective or "",
                         _pct(b.left) if b and b.left is not None else "", rates,
                         ", ".join(sorted({f.severity for f in s.firing}, reverse=True))])
        out.print(table(f"{r.product} ({r.objectives.tier}, {r.owner}): {r.status}",
                        ["sli", "status", "value", "objective", "budget left", "burn 1h 6h 3d", "alert"], rows))
    if composite and len(composite["paths"]) and len(composite["paths"][0]["path"]) > 1:
        out.print(table("composite availability along lineage (serial hops multiply)",
                        ["path", "objective", "measured"],
                        [[" -> ".join(p["path"]), _pct(p["objective"]), _pct(p["measured"])]
                         for p in composite["paths"]]))


def alerts(
    at: AtOpt = None,
    notify: Annotated[bool, typer.Option(
        "--notify/--no-notify",
        help="Record new and cleared alerts and send them to the sinks. --no-notify only shows what "
             "fires: nothing is recorded or sent, so the next 'headwater alerts' still sends it.")] = True,
    history: Annotated[bool, typer.Option("--all", help="Also list resolved alerts.")] = False,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Evaluate the burn-rate rules now, record alerts and incidents, and list what fires."""
    hw = _platform(project, at)
    result = hw.observe.evaluate(notify=notify, record=notify)
    listed = hw.observe.alerts() if history else result.firing
    if json:
        print_json({**result.to_dict(), "alerts": listed})
        return
    out = console()
    preview = "" if result.recorded else " (preview: nothing recorded or sent)"
    out.print(table(f"alerts at {result.at.isoformat()}: {len(result.fired)} new, {len(result.resolved)} cleared"
                    f"{preview}",
                    ["severity", "product", "sli", "state", "incident", "since", "message"],
                    [[a["severity"], a["product"], a["sli"], a["state"], a["incident_id"], a["started_at"],
                      a["message"]] for a in listed]))
    for error in result.delivery_errors:
        console(stderr=True).print(f"[yellow]delivery failed:[/] {error}")


def metrics(at: AtOpt = None, project: ProjectOpt = None) -> None:
    """Print SLIs, budgets, burn rates, alerts and incidents in the Prometheus exposition format.

    With --at, every series is as of that time: alerts firing and incidents open then, as
    recorded by 'headwater alerts' runs up to then."""
    sys.stdout.write(_platform(project, at).observe.metrics())


def _days(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 < value <= MAX_DAYS):
        raise typer.BadParameter(f"{value} is not a number of days above 0 and up to {MAX_DAYS} (e.g. 30)")
    return value


def anomalies(
    product: Annotated[str, typer.Argument(help="The product to score.")],
    days: Annotated[float | None, typer.Option(
        callback=_days,
        help="Score every run of the last N days (default: the latest).")] = None,
    exclude: Annotated[str | None, typer.Option(help="Mark this step id as a known outlier, kept out of baselines.")] = None,
    reason: Annotated[str, typer.Option(help="Why the excluded run is unusual.")] = "known outlier",
    at: AtOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Volume, arrival-time and duration anomalies (seasonal median/MAD) and schema changes."""
    from datetime import timedelta

    hw = _platform(project, at)
    if exclude:  # after checking the product, and that the step is one of its runs
        hw.observe.mark_outlier(exclude, reason, product=product)
    scores = hw.observe.anomalies(product, evaluated=timedelta(days=days) if days else None)
    changes = hw.observe.schema_changes(product)
    if json:
        print_json({"product": product, "scores": [s.to_dict() for s in scores],
                    "schema_changes": [c.to_dict() for c in changes]})
        return
    out = console()
    out.print(table(f"anomalies of {product}", ["at", "metric", "value", "expected", "score", "season", "anomalous"],
                    [[s.at.isoformat(), s.metric, f"{s.value:,.0f}",
                      "" if s.expected is None else f"{s.expected:,.0f}",
                      "" if s.score is None else f"{s.score:.1f}", s.season or "(too little history)",
                      "YES" if s.anomalous else ""] for s in scores]))
    if changes:
        out.print(table("schema changes", ["at", "change", "column", "before", "after"],
                        [[c.at.isoformat(), c.kind, c.column, c.before, c.after] for c in changes]))


def incidents_list(
    state: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Incidents, newest first, with MTTD and MTTR (and their means)."""
    from headwater.observe.incidents import mean

    items = _platform(project).observe.incidents(state)
    mttd = mean([i.mttd for i in items])
    mttr = mean([i.mttr for i in items if i.mttr is not None])
    if json:
        print_json({"incidents": [i.to_dict() for i in items],
                    "mean_mttd_seconds": mttd.total_seconds() if mttd is not None else None,
                    "mean_mttr_seconds": mttr.total_seconds() if mttr is not None else None})
        return
    console().print(table(f"incidents (mean MTTD {_td(mttd)}, mean MTTR {_td(mttr)})",
                          ["id", "state", "severity", "root", "affected", "started", "MTTD", "MTTR"],
                          [[i.incident_id, i.state, i.severity, f"{i.root} ({i.root_kind})", ", ".join(i.affected),
                            i.started_at.isoformat(), _td(i.mttd), _td(i.mttr, "")] for i in items]))


def _show(incident, json: bool) -> None:
    if json:
        print_json(incident.to_dict())
        return
    out = console()
    out.print(f"[bold]incident {incident.incident_id}[/] {incident.state} {incident.severity}: {incident.title}")
    out.print(f"  affected: {', '.join(incident.affected)}   MTTD {_td(incident.mttd)}   MTTR {_td(incident.mttr)}")
    out.print(table("timeline", ["at", "event", "message"],
                    [[e["at"], e["kind"], e["message"]] for e in incident.timeline]))


def incidents_show(incident_id: int, project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """One incident: root, affected products, alerts and timeline."""
    _show(_platform(project).observe.incident(incident_id), json)


def incidents_ack(incident_id: int, by: Annotated[str | None, typer.Option(help="Who acknowledges.")] = None,
                  note: str | None = None, at: AtOpt = None, project: ProjectOpt = None,
                  json: JsonOpt = False) -> None:
    """Acknowledge an incident (someone is on it)."""
    _show(_platform(project, at).observe.acknowledge(incident_id, by, note), json)


def incidents_resolve(incident_id: int, by: Annotated[str | None, typer.Option(help="Who resolves.")] = None,
                      note: str | None = None, at: AtOpt = None, project: ProjectOpt = None,
                      json: JsonOpt = False) -> None:
    """Resolve an incident; its MTTR is fixed from then on."""
    _show(_platform(project, at).observe.resolve(incident_id, by, note), json)


def incidents_postmortem(
    incident_id: int,
    summary: str | None = None,
    impact: str | None = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause")] = None,
    category: Annotated[str | None, typer.Option(help="Root-cause category; recurrences within 6 months are flagged.")] = None,
    action: Annotated[list[str] | None, typer.Option(help="'what | owner | YYYY-MM-DD' (repeatable).")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show the postmortem of an incident, or write parts of it; incomplete ones say what is missing."""
    from headwater.errors import NotFoundError
    from headwater.observe.postmortem import ActionItem

    pm = _platform(project).observe.postmortem(
        incident_id, summary=summary, impact=impact, root_cause=root_cause, category=category,
        actions=[ActionItem.parse(a) for a in action or []])
    if pm is None:
        raise NotFoundError(f"incident {incident_id} has no postmortem yet",
                            fix=f"headwater incidents postmortem {incident_id} --summary ... --impact ... "
                                "--root-cause ... --category ... --action 'what | owner | YYYY-MM-DD'")
    if json:
        print_json(pm.to_dict())
        return
    out = console()
    out.print(f"[bold]postmortem of incident {incident_id}[/] "
              + ("[green]complete[/]" if pm.complete else f"[red]INCOMPLETE[/]: missing {', '.join(pm.missing)}"))
    for label, value in (("summary", pm.summary), ("impact", pm.impact), ("root cause", pm.root_cause),
                         ("category", pm.category)):
        out.print(f"  {label}: {value or '-'}", markup=False)
    if pm.recurrences:
        out.print(f"  [yellow]recurring:[/] the same category in incident(s) {', '.join(map(str, pm.recurrences))} "
                  "within 6 months")
    out.print(table("action items", ["what", "owner", "due"],
                    [[a.description, a.owner or "MISSING", a.due or "MISSING"] for a in pm.action_items]))
    out.print(table("timeline", ["at", "event", "message"], [[e["at"], e["kind"], e["message"]] for e in pm.timeline]))
