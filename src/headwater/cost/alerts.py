"""Budget alerts leave through the project's alert sinks (``alerting.sinks``; default
``<state>/alerts.jsonl``), the same sinks the SLO alerts use. This is the one place cost
touches them."""

from __future__ import annotations


def send_budget_alerts(platform, alerts, sinks=None) -> list[str]:
    """Send each budget alert to every sink taking its severity; returns delivery errors."""
    from headwater.observe.notify import configured_sinks
    from headwater.observe.sinks import Alert, SinkError

    targets = [(s, {"page", "ticket", "info"}) for s in sinks] if sinks is not None \
        else configured_sinks(platform)
    errors = []
    for budget in alerts:
        alert = Alert(key=f"cost:budget:{budget.scope}:{budget.name}:{budget.month}:{budget.kind}:"
                          f"{budget.threshold:g}",
                      severity=budget.severity,
                      title=f"budget {budget.threshold:.0%} {budget.kind}: {budget.scope} {budget.name}",
                      message=budget.message, at=budget.at,
                      product=budget.name if budget.scope == "product" else None, source="cost",
                      labels={"project": platform.project.name, "scope": budget.scope,
                              "name": budget.name, "kind": budget.kind, "month": budget.month},
                      values={"amount": budget.amount, "budget": budget.budget,
                              "threshold": budget.threshold, "currency": budget.currency})
        for sink, severities in targets:
            if alert.severity in severities:
                try:
                    sink.send(alert)
                except SinkError as exc:
                    errors.append(f"{type(sink).__name__}: {exc.message}")
    return errors
