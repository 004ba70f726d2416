"""The report for three readers: an engineer (evidence), a manager (impact, owners, next steps),
an executive (one paragraph: money and risk). Plain text with rich markup; JSON is ``to_dict``."""

from __future__ import annotations

from rich.markup import escape

from headwater.diagnose.model import RISK_KINDS, Diagnosis, Finding, hms

AUDIENCES = ("engineer", "manager", "executive")


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _head(d: Diagnosis) -> str:
    s = d.symptom
    late = f", {hms(s['late_by_seconds'])} later than usual" if s.get("late_by_seconds") else ""
    return f"{d.target}: ready at {s['ready_at']:%Y-%m-%d %H:%M} UTC{late}" if s.get("ready_at") else d.target


def engineer(d: Diagnosis) -> list[str]:
    lines = [f"[bold]{_head(d)}[/]", f"critical path: {' <- '.join(d.symptom.get('critical_path') or [])}"]
    for n, f in enumerate(d.findings, 1):
        impact = "structural risk" if f.is_risk else f"delay {hms(f.delay_seconds)}, cost {_money(f.cost)}"
        lines.append(f"\n[bold]{n}. {f.kind}[/] {f.culprit}  ({impact}, confidence {f.confidence:.0%})")
        lines.append(f"   {f.recommendation}")
        for key, value in f.evidence.items():
            if key == "critical_path":
                for hop in value:
                    lines.append(f"   hop {hop['job']}: waited {hms(hop['waiting_for_inputs_seconds'])} for "
                                 f"inputs, queued {hms(hop['queue_seconds'])}, ran {hms(hop['running_seconds'])}"
                                 f" (last input {hop['last_input'] or '-'})")
            elif isinstance(value, dict):
                lines.append(f"   {key}: " + ", ".join(f"{k}={_short(v)}" for k, v in value.items()))
            elif isinstance(value, list):
                lines.append(f"   {key}: {len(value)} item(s)")
                for item in value[:5]:
                    lines.append(f"     - {_short(item)}")
            else:
                lines.append(f"   {key}: {_short(value)}")
    if not d.findings:
        lines.append("no findings: the run was on time and on its usual path")
    return [line if line.startswith(("[bold]", "\n[bold]")) else escape(line) for line in lines]


def _short(value) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items())
    return str(value)


def _owner_of(f: Finding) -> str:
    owner = f.evidence.get("owner") or {}
    return owner.get("team") or ", ".join(owner.get("owners") or ()) or f.evidence.get("person") or "unowned"


def manager(d: Diagnosis) -> list[str]:
    timing = [f for f in d.findings if f.kind not in RISK_KINDS]
    risks = [f for f in d.findings if f.kind in RISK_KINDS]
    lines = [f"[bold]{escape(_head(d))}[/]"]
    if timing:
        top = timing[0]
        lines.append(f"Cause: {top.kind.replace('_', ' ')} at {top.culprit}; it cost {hms(top.delay_seconds)} "
                     f"of delay ({_money(top.cost)} at {_money(d.context.get('cost_per_hour'))}/hour).")
    lines.append("Next steps:")
    for n, f in enumerate(timing + risks, 1):
        lines.append(f"  {n}. {escape(f.recommendation)} (owner: {escape(_owner_of(f))})")
    owner = d.context.get("owner") or {}
    if owner.get("oncall"):
        lines.append(f"Target owner: {owner.get('team')} ({owner['oncall']})")
    return lines


def executive(d: Diagnosis) -> list[str]:
    timing = [f for f in d.findings if f.kind not in RISK_KINDS]
    risks = [f for f in d.findings if f.kind in RISK_KINDS]
    if not timing:
        text = f"{d.target} was delivered on its usual schedule; no delay to account for."
    else:
        top = timing[0]
        text = (f"{d.target} was {hms(d.symptom.get('late_by_seconds') or top.delay_seconds)} late. "
                f"The cause is {top.culprit} ({top.kind.replace('_', ' ')}), not the team that owns the "
                f"report; fixing it recovers {hms(top.delay_seconds)} per occurrence, worth about "
                f"{_money(top.cost)} each time at {_money(d.context.get('cost_per_hour'))} per hour of delay.")
    if risks:
        why = {"monitoring_gap": "no one is alerted where such a delay starts",
               "single_owner": "one person holds the knowledge of a step on the critical path",
               "ghost_sink": "money is spent writing data nobody reads"}
        text += " Risks remain: " + "; ".join(why[k] for k in sorted({r.kind for r in risks})) + "."
    return [text]


def render(d: Diagnosis, audience: str = "engineer") -> list[str]:
    return {"engineer": engineer, "manager": manager, "executive": executive}[audience](d)
