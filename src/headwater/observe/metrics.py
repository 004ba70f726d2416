"""``headwater metrics``: SLIs, objectives, budgets, burn rates, alerts and incidents as
Prometheus gauges (text exposition format 0.0.4), for a scrape or the textfile collector."""

from __future__ import annotations

from datetime import datetime

from headwater.observe.sinks.prometheus import render

HELP = {
    "headwater_sli_value": "Current value of an SLI (seconds for freshness and latency, ratio otherwise, rows for volume).",
    "headwater_sli_breached": "1 when the SLI misses its objective (or is anomalous), else 0.",
    "headwater_slo_target": "Share of good events the SLO requires.",
    "headwater_error_budget_remaining": "Share of the error budget left in the compliance window (negative: overspent).",
    "headwater_burn_rate": "Error ratio over the window divided by the error budget.",
    "headwater_freshness_objective_seconds": "Maximum age of the data the product promises.",
    "headwater_alerts_firing": "Alerts firing at the evaluation time, by severity (their latest severity).",
    "headwater_incidents_open": "Incidents open or acknowledged at the evaluation time.",
    "headwater_source_late": "1 when a source has not landed since its expected arrival.",
}


def exposition(service, at: datetime) -> str:
    samples = []
    for slo in service.report(at=at):
        p = slo.product
        samples.append(("headwater_freshness_objective_seconds", {"product": p},
                        slo.objectives.freshness.total_seconds()))
        for name, result in slo.slis.items():
            labels = {"product": p, "sli": name, "tier": slo.objectives.tier}
            if result.value is not None:
                samples.append(("headwater_sli_value", labels, float(result.value)))
            if result.status.value != "no_data":
                samples.append(("headwater_sli_breached", labels,
                                1.0 if result.status.value in ("breached", "anomalous") else 0.0))
            if result.target is not None and result.budget is not None:
                samples.append(("headwater_slo_target", labels, result.target))
                if result.budget.left is not None:
                    samples.append(("headwater_error_budget_remaining", labels, result.budget.left))
            for window, rate in result.burn.items():
                if rate is not None:
                    samples.append(("headwater_burn_rate", {**labels, "window": window}, rate))
    # as recorded by the evaluation loop: fired by ``at`` and not cleared (or resolved) by then
    firing = [a for a in service.incidents_store.alerts() if _during(a.fired_at, a.resolved_at, at)]
    for severity in ("page", "ticket"):
        samples.append(("headwater_alerts_firing", {"severity": severity},
                        float(sum(a.severity == severity for a in firing))))
    samples.append(("headwater_incidents_open", {},
                    float(sum(_during(i.detected_at, i.resolved_at, at) for i in service.incidents()))))
    for arrival in service.source_arrivals(at):
        samples.append(("headwater_source_late", {"source": arrival.source}, 1.0 if arrival.late else 0.0))
    return render(samples, HELP)


def _during(start: datetime, end: datetime | None, at: datetime) -> bool:
    return start <= at and (end is None or end > at)
