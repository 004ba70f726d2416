"""Demo stage 'cost': showback with every field, the waste list, budgets and a retention plan.

The example's merchandising products carry planted waste, declared in their product file and made
real by running them: an unread export, an over-tiered daily report and a year of price history.
The project is minutes old and the waste list judges "unread" only for products older than its
window, so the demo looks for waste over the time all its products have existed (whole seconds, at
most ``cost.unread_after``). Its monthly figures follow the rule for products younger than a day:
each product's cost so far counts as a day's.
"""

from __future__ import annotations

import math
from datetime import timedelta

PLANTED = {"clickstream_vendor_export": "unread", "category_sales_daily": "over_tiered",
           "line_price_history": "long_retention"}
RERUNS = 3


def stage(platform, console) -> dict:
    project = platform.project
    planted = [p for p in PLANTED if p in project.products]
    for _ in range(RERUNS if planted else 0):  # real run history: the team's pipelines keep running
        platform.run(planted, trigger="demo")
    if "fct_daily_revenue" in project.products:  # the finance dashboard reads through the API
        for _ in range(3):
            platform.query("SELECT order_date, sum(net_revenue) FROM fct_daily_revenue GROUP BY 1",
                           channel="api", reader="exec-kpi-dashboard")
    service = platform.cost
    usage = service.usage()
    showback = service.showback("product", timedelta(days=30), usage=usage)
    domains = service.showback("domain", timedelta(days=30), usage=usage)
    waste = service.waste(_window(service, usage), usage=usage)
    budgets = service.budgets(usage=usage)
    retention = service.retention_plan()
    found = {p: [(f.kind, f.monthly_cost, f.savings_per_month) for f in waste.findings if f.product == p]
             for p in planted}
    summary = {
        "currency": showback.currency, "total_30d": showback.total,
        "unattributed_30d": showback.unattributed,  # control plane before the project existed
        "showback": [line.to_dict() for line in showback.lines],
        "by_domain": {line.key: line.total_cost for line in domains.lines},
        "waste_window": waste.to_dict()["window"],
        "waste": [f.to_dict() for f in waste.findings],
        "waste_savings_per_month": waste.savings_per_month,
        "planted_found": {p: any(kind == PLANTED[p] for kind, _, _ in found[p]) for p in planted},
        "budgets": [s.to_dict() for s in budgets.statuses],
        "budget_alerts": [a.to_dict() for a in budgets.alerts],
        "retention_bytes_to_free": retention.bytes,
    }
    if console is not None:
        _show(console, showback, domains, waste, budgets, retention, planted)
    return summary


def _window(service, usage) -> timedelta | None:
    """Whole seconds since the youngest product came to exist, at most ``cost.unread_after``;
    None (the default window) when nothing is a second old."""
    if not usage.first_seen:
        return None
    age = usage.now - max(usage.first_seen.values())
    youngest = timedelta(seconds=math.floor(age.total_seconds()))
    return min(youngest, service.config.unread_after) if youngest > timedelta(0) else None


def _show(console, showback, domains, waste, budgets, retention, planted) -> None:
    from headwater.cli.cost_cmds import _money, showback_tables
    from headwater.cli.output import human_bytes, table

    cur = showback.currency
    for part in showback_tables(showback, f"cost: showback, last 30 days: {_money(showback.total, cur)} "
                                          "(all fields: headwater cost --csv)"):
        console.print(part)
    if showback.unattributed:
        console.print(f"not in any line: {_money(showback.unattributed, cur)} of control plane for the part "
                      "of the 30 days before the project existed", markup=False)
    console.print(table("by domain", ["domain", "products", "runs", "total"],
                        [[d.key, d.products, d.runs, _money(d.total_cost, cur)] for d in domains.lines]))
    rows = [[f.kind, f.product, f.owner, _money(f.monthly_cost, cur), _money(f.savings_per_month, cur),
             "planted" if f.product in planted else ""] for f in waste.findings]
    console.print(table(f"waste in the {waste.to_dict()['window']} since the demo was built: "
                        f"{_money(waste.savings_per_month, cur)} a month to save",
                        ["kind", "product", "owner", "cost/month", "saving/month", ""], rows))
    for f in waste.findings:
        if f.product in planted:
            console.print(f"  {f.product}: {f.detail}; fix: {f.fix}", markup=False, soft_wrap=True)
    if budgets.statuses:
        console.print(table(f"budgets {budgets.month}", ["scope", "name", "budget", "actual", "forecast",
                                                         "status"],
                            [[s.scope, s.name, _money(s.budget, cur), _money(s.actual, cur),
                              _money(s.forecast, cur), s.status] for s in budgets.statuses]))
    for alert in budgets.alerts:
        console.print(f"  alert sent [{alert.severity}]: {alert.message}", markup=False)
    console.print(f"retention plan (dry run): {human_bytes(retention.bytes)} to free now; "
                  "'headwater retention apply --yes' does it", markup=False)
