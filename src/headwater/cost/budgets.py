"""Monthly budgets per domain (``cost.budgets.domains``) and product (``cost.budget_per_month``).

Actual is the month-to-date cost; a product pays no shared cost for days before it existed
(``headwater.cost.shared``). The forecast adds the rest of the month from the trend: a
least-squares line through the daily cost of the last ``forecast_window``, integrated over the
days left and never below zero. A scope's days are the whole days since its first product
existed, so a new product is averaged neither with days it did not exist nor with a part of a
day; one younger than a day has one day: its cost so far, its shared part taken as a daily rate.
Each share in ``alert_at`` (default 80% and 100%) raises one alert per scope, month and kind
(``forecast`` or ``actual``), remembered in the ledger so it is sent once; they go through the
project's alert sinks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from headwater.cost.attribution import attribute
from headwater.cost.schema import BudgetAlertRow

DAY = timedelta(days=1)


@dataclass
class BudgetStatus:
    scope: str  # domain | product
    name: str
    month: str
    budget: float
    actual: float
    forecast: float
    daily_trend: float  # slope of the fitted line, per day per day
    status: str  # ok | warning | over
    thresholds_crossed: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BudgetAlert:
    scope: str
    name: str
    month: str
    kind: str  # actual | forecast
    threshold: float
    amount: float
    budget: float
    currency: str
    at: datetime

    @property
    def severity(self) -> str:
        return "ticket" if self.threshold >= 1 else "info"

    @property
    def message(self) -> str:
        what = "spent" if self.kind == "actual" else "is forecast to spend"
        return (f"{self.scope} {self.name} {what} {self.amount:.2f} {self.currency} in {self.month}, "
                f"{self.amount / self.budget:.0%} of its {self.budget:.2f} budget "
                f"(alert at {self.threshold:.0%})")

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(severity=self.severity, message=self.message, at=self.at.isoformat())
        return out


@dataclass
class BudgetReport:
    month: str
    currency: str
    statuses: list[BudgetStatus]
    alerts: list[BudgetAlert]
    delivery_errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"month": self.month, "currency": self.currency,
                "budgets": [s.to_dict() for s in self.statuses],
                "alerts": [a.to_dict() for a in self.alerts], "delivery_errors": self.delivery_errors}


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = datetime(now.year, now.month, 1, tzinfo=timezone.utc)
    end = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def fit_line(values: list[float]) -> tuple[float, float]:
    """Intercept and slope of the least-squares line through (0, v0), (1, v1), ..."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    if n == 1:
        return values[0], 0.0
    mean_x, mean_y = (n - 1) / 2, math.fsum(values) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in range(n))
    slope = math.fsum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / sxx
    return mean_y - slope * mean_x, slope


def project_rest(values: list[float], days_left: float) -> float:
    """Cost of the next ``days_left`` days on the fitted line (day n is the one after the last)."""
    a, b = fit_line(values)
    n, total, day = len(values), 0.0, 0
    while days_left - day > 1e-9:
        part = min(1.0, days_left - day)
        total += max(a + b * (n + day), 0.0) * part
        day += 1
    return total


def evaluate_budgets(service, usage, send: bool = True, sinks=None) -> BudgetReport:
    platform = service.platform
    project, cfg = platform.project, service.config
    now = usage.now
    start, end = month_bounds(now)
    month = f"{now.year:04d}-{now.month:02d}"
    scopes = {("domain", d): b for d, b in cfg.budgets.domains.items()}
    scopes.update({("product", n): p.cost.budget_per_month for n, p in project.products.items()
                   if p.cost.budget_per_month is not None})

    actual = _by_scope(attribute(project, usage, start, now))
    series_of = _daily_series(project, usage, list(scopes), int(cfg.budgets.forecast_window / DAY))
    days_left = (end - now) / DAY
    statuses, crossed = [], []
    for (scope, name), budget in sorted(scopes.items()):
        spent = actual.get((scope, name), 0.0)
        series = series_of[(scope, name)]
        forecast = spent + project_rest(series, days_left)
        status = BudgetStatus(scope, name, month, budget, spent, forecast, fit_line(series)[1], "ok")
        for kind, amount in (("forecast", forecast), ("actual", spent)):
            hit = [t for t in cfg.budgets.alert_at if budget > 0 and amount >= t * budget]
            status.thresholds_crossed[kind] = hit
            crossed += [BudgetAlert(scope, name, month, kind, t, amount, budget, cfg.currency, now)
                        for t in hit]
        status.status = "over" if spent >= budget else ("warning" if status.thresholds_crossed["forecast"]
                                                        or status.thresholds_crossed["actual"] else "ok")
        statuses.append(status)
    report = BudgetReport(month, cfg.currency, statuses, [])
    if send:
        report.alerts = _remember(platform, crossed)
        from headwater.cost.alerts import send_budget_alerts

        report.delivery_errors = send_budget_alerts(platform, report.alerts, sinks)
    else:
        sent = _already_sent(platform, month)
        report.alerts = [a for a in crossed if (a.scope, a.name, a.kind, a.threshold) not in sent]
    return report


def _by_scope(lines, amount: str = "total_cost") -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for line in lines:
        for key in (("domain", line.domain), ("product", line.key)):
            out[key] = out.get(key, 0.0) + getattr(line, amount)
    return out


def _daily_series(project, usage, scopes: list[tuple[str, str]], window_days: int
                  ) -> dict[tuple[str, str], list[float]]:
    """Each scope's daily cost over the whole days (ending now) since its first product existed,
    at most ``window_days``. Younger than a day: one value, the cost so far with its shared part
    scaled to a day (the control plane is a rate; a run is not)."""
    now = usage.now
    born: dict[tuple[str, str], datetime] = {}
    for name, at in usage.first_seen.items():
        for key in (("domain", project.products[name].domain), ("product", name)):
            born[key] = min(born.get(key, at), at)
    whole = {key: min(window_days, math.floor((now - born[key]) / DAY))  # None: not born yet
             if key in born and born[key] < now else None for key in scopes}
    days = max((d for d in whole.values() if d), default=0)
    daily = [_by_scope(attribute(project, usage, now - DAY * (days - i), now - DAY * (days - i - 1)))
             for i in range(days)]
    last_day = attribute(project, usage, now - DAY, now)
    total, shared = _by_scope(last_day), _by_scope(last_day, "shared_cost")
    out: dict[tuple[str, str], list[float]] = {}
    for key in scopes:
        if whole[key] is None or window_days <= 0:
            out[key] = []
        elif whole[key]:
            out[key] = [d.get(key, 0.0) for d in daily[days - whole[key]:]]
        else:
            out[key] = [total.get(key, 0.0) + shared.get(key, 0.0) * (DAY / (now - born[key]) - 1)]
    return out


def _already_sent(platform, month: str) -> set[tuple]:
    with Session(platform.ledger.engine) as s:
        rows = s.scalars(select(BudgetAlertRow).where(BudgetAlertRow.month == month))
        return {(r.scope, r.name, r.kind, r.threshold) for r in rows}


def _remember(platform, alerts: list[BudgetAlert]) -> list[BudgetAlert]:
    """Record each alert once; return those not sent before (a second evaluation is quiet)."""
    new = []
    for alert in alerts:
        try:
            with Session(platform.ledger.engine) as s, s.begin():
                s.add(BudgetAlertRow(scope=alert.scope, name=alert.name, month=alert.month,
                                     kind=alert.kind, threshold=alert.threshold, amount=alert.amount,
                                     budget=alert.budget, sent_at=alert.at))
        except IntegrityError:
            continue
        new.append(alert)
    return new
