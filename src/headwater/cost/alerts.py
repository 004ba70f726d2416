"""Budget alerts leave through the project's alert sinks (``alerting.sinks``; default
``<state>/alerts.jsonl``), the same sinks the SLO alerts use. This is the one place cost
touches them."""

from __future__ import annotations


def send_budget_alerts(platform, alerts, sinks=None) -> list[str]:
    """Send each budget alert to every sink taking its severity; returns delivery errors."""
    from headwater.observe.notify import send_alerts
    from headwater.observe.sinks import Alert

    out = []
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
        out.append(alert)
    return send_alerts(platform, out, sinks)
