"""ObserveService: SLOs, budgets, alerts, incidents and postmortems of one project (``Platform.observe``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from headwater.observe import detect, sli
from headwater.observe.burn import budget, burn_rates, firing
from headwater.observe.grouping import Condition
from headwater.observe.history import History, SliResult, Status
from headwater.observe.objectives import Objectives, objectives_for
from headwater.spec.types import format_duration

BUDGETED = ("freshness", "completeness", "availability", "validity")


@dataclass
class ProductSlo:
    product: str
    at: datetime
    objectives: Objectives
    slis: dict[str, SliResult]
    owner: str = ""

    @property
    def status(self) -> str:
        if any(s.firing for s in self.slis.values()):
            return "alerting"
        if any(s.status == Status.BREACHED for s in self.slis.values()):
            return "breached"
        if any(s.status == Status.ANOMALOUS for s in self.slis.values()):
            return "anomalous"
        if all(s.status == Status.NO_DATA for s in self.slis.values()):
            return "no_data"  # never run: nothing is known, which is not the same as fine
        return "ok"

    def to_dict(self) -> dict:
        return {"product": self.product, "at": self.at.isoformat(), "owner": self.owner,
                "status": self.status, "objectives": self.objectives.to_dict(),
                "slis": {k: v.to_dict() for k, v in self.slis.items()}}


@dataclass
class SourceArrival:
    source: str
    expected_at: datetime | None
    arrived_at: datetime | None
    late: bool

    def to_dict(self) -> dict:
        return {"source": self.source, "late": self.late,
                "expected_at": self.expected_at.isoformat() if self.expected_at else None,
                "arrived_at": self.arrived_at.isoformat() if self.arrived_at else None}


@dataclass
class Evaluation:
    at: datetime
    fired: list[dict] = field(default_factory=list)
    resolved: list[dict] = field(default_factory=list)
    firing: list[dict] = field(default_factory=list)
    open_incidents: list[dict] = field(default_factory=list)
    delivery_errors: list[str] = field(default_factory=list)
    recorded: bool = True  # False: a preview, nothing was stored or sent

    def to_dict(self) -> dict:
        return {"at": self.at.isoformat(), "recorded": self.recorded, "fired": self.fired,
                "resolved": self.resolved, "firing": self.firing, "open_incidents": self.open_incidents,
                "delivery_errors": self.delivery_errors}


class ObserveService:
    def __init__(self, platform) -> None:
        self.platform = platform

    @property
    def project(self):
        return self.platform.project

    def now(self, at: datetime | None = None) -> datetime:
        return at or self.platform.clock.now()

    # SLOs -----------------------------------------------------------------
    def objectives(self, product: str) -> Objectives:
        return objectives_for(self.project, product)

    def slo(self, product: str, at: datetime | None = None, *, _commits=None) -> ProductSlo:
        """Every SLI of one product at ``at`` (default: now), with budgets and burn rates."""
        at = self.now(at)
        spec = self.project.product(product)
        obj = self.objectives(product)
        h = History.load(self.platform.ledger, product, at)
        results: dict[str, SliResult] = {}
        for name, (result, series) in (("freshness", sli.freshness(h, obj)),
                                       ("completeness", sli.completeness(h, obj)),
                                       ("availability", sli.availability(h, obj, spec.schedule)),
                                       ("validity", sli.validity(h, obj))):
            if result.status != Status.NO_DATA or name == "freshness":
                target = obj.target(name)
                result.budget = budget(series, target, at, obj.window)
                rates = burn_rates(series, target, at)
                result.burn = {format_duration(w): r for w, r in rates.items()}
                result.firing = firing(rates)
            results[name] = result
        results["volume"] = detect.volume(h, self.outliers(), self.project.config.alerting.anomaly_threshold)
        results["latency"] = sli.latency(h, obj, _commits or self._commit_lookup(at))
        return ProductSlo(product, at, obj, results, spec.owner.team)

    def report(self, products: list[str] | None = None, at: datetime | None = None) -> list[ProductSlo]:
        at = self.now(at)
        names = products or self.project.topological_order()
        commits = self._commit_lookup(at)  # one read of the ledger for every product's latency
        return [self.slo(n, at, _commits=commits) for n in names]

    def _commit_lookup(self, at: datetime):
        commits = {(s.product, s.output_snapshot_id): s.finished_at
                   for s in self.platform.ledger.steps(status="success")
                   if s.output_snapshot_id is not None and s.finished_at and s.finished_at <= at}
        return lambda product, snapshot_id: commits.get((product, snapshot_id))

    def composite_availability(self, product: str, at: datetime | None = None) -> dict[str, Any]:
        """Availability along every lineage path into ``product``: serial hops multiply."""
        at = self.now(at)
        paths = _paths(self.project, product)
        measured = {n: self.slo(n, at).slis["availability"].value for p in paths for n in p}
        from headwater.observe.burn import serial

        out = []
        for path in paths:
            values = [measured[n] for n in path]
            out.append({"path": path, "objective": serial([self.objectives(n).availability for n in path]),
                        "measured": None if None in values else serial(values)})
        worst = min(out, key=lambda p: p["objective"]) if out else None
        return {"product": product, "at": at.isoformat(), "paths": out,
                "objective": worst["objective"] if worst else None}

    # sources ----------------------------------------------------------------
    def source_arrivals(self, at: datetime | None = None) -> list[SourceArrival]:
        """Each source with an expected_arrival (daily, HH:MM UTC): late when nothing has landed
        since the previous delivery was due, once this one is due."""
        import glob
        import os
        from datetime import time as dtime
        from datetime import timezone

        at = self.now(at)
        out = []
        for name, source in sorted(self.project.sources.items()):
            if not getattr(source, "expected_arrival", None):
                continue
            hh, mm = (int(x) for x in source.expected_arrival.split(":"))
            expected = datetime.combine(at.date(), dtime(hh, mm), tzinfo=timezone.utc)
            if expected > at:
                expected -= timedelta(days=1)
            files = glob.glob(str(self.project.root / source.path))
            arrived = datetime.fromtimestamp(max(os.stat(f).st_mtime for f in files), tz=timezone.utc) \
                if files else None
            # the delivery due at ``expected`` may land any time after the previous one was due
            out.append(SourceArrival(name, expected, arrived, arrived is None or arrived <= expected - timedelta(days=1)))
        return out

    # alerts and incidents ------------------------------------------------------
    def conditions(self, at: datetime | None = None) -> list[Condition]:
        at = self.now(at)
        out = []
        for slo in self.report(at=at):
            for name, result in slo.slis.items():
                for rule in result.firing:
                    rates = ", ".join(f"{w} {r:.1f}x" for w, r in result.burn.items()
                                      if r is not None and w in (format_duration(rule.long),
                                                                 format_duration(rule.short)))
                    out.append(Condition(slo.product, "product", name, rule.severity, rule.name,
                                         result.bad_since or at,
                                         f"{name} burning its error budget ({rates}; rule {rule.name})",
                                         {"burn_rates": result.burn, "value": result.value}))
            volume = slo.slis["volume"]
            if volume.status == Status.ANOMALOUS:  # not budgeted: an anomaly is worth a ticket
                rows = volume.detail.get("rows", {})
                out.append(Condition(slo.product, "product", "volume", "ticket", "robust z", volume.bad_since or at,
                                     f"{volume.value:,.0f} rows vs a {rows.get('season')} median of "
                                     f"{rows.get('expected') or 0:,.0f} (robust z {rows.get('score')})",
                                     {"value": volume.value, "expected": rows.get("expected")}))
        for arrival in self.source_arrivals(at):
            if arrival.late:
                out.append(Condition(arrival.source, "source", "arrival", "ticket", "expected_arrival",
                                     arrival.expected_at,
                                     f"not landed since {arrival.expected_at:%Y-%m-%d %H:%M} UTC "
                                     f"(last file {arrival.arrived_at.isoformat() if arrival.arrived_at else 'none'})",
                                     arrival.to_dict()))
        return out

    def evaluate(self, at: datetime | None = None, notify: bool = True, sinks=None,
                 record: bool = True) -> Evaluation:
        """Compute what fires now, record alerts and incidents, and send new ones to the sinks.

        ``record=False`` is a preview: the same result, with nothing stored and nothing sent, so
        the next evaluation still reports the new alerts and delivers them. ``notify=False``
        alone records without sending: those alerts are never delivered later."""
        from headwater.observe.incidents import alert_dict
        from headwater.observe.notify import deliver

        at = self.now(at)
        if not record:
            changed, firing = self.incidents_store.preview(self.conditions(at), at)
            return Evaluation(at, fired=[a for a in changed if a["state"] == "firing"],
                              resolved=[a for a in changed if a["state"] != "firing"], firing=firing,
                              open_incidents=[i.to_dict() for i in self.incidents() if i.state != "resolved"],
                              recorded=False)
        changed = self.incidents_store.record(self.conditions(at), at)
        result = Evaluation(at)
        for row in changed:
            (result.fired if row.state == "firing" else result.resolved).append(alert_dict(row))
        result.firing = [alert_dict(a) for a in self.incidents_store.alerts("firing")]
        result.open_incidents = [i.to_dict() for i in self.incidents() if i.state != "resolved"]
        if notify and changed:
            result.delivery_errors = deliver(self.platform, changed, sinks)
        return result

    @property
    def incidents_store(self):
        from headwater.observe.incidents import IncidentStore

        return IncidentStore(self.platform.ledger.engine, self.project,
                             self.project.config.alerting.incident_window)

    def alerts(self, state: str | None = None) -> list[dict]:
        from headwater.observe.incidents import alert_dict

        return [alert_dict(a) for a in self.incidents_store.alerts(state)]

    def incidents(self, state: str | None = None):
        return self.incidents_store.list(state)

    def incident(self, incident_id: int):
        return self.incidents_store.get(incident_id)

    def acknowledge(self, incident_id: int, who: str | None = None, note: str | None = None):
        return self.incidents_store.transition(incident_id, "acknowledged", self.now(), who, note)

    def resolve(self, incident_id: int, who: str | None = None, note: str | None = None):
        return self.incidents_store.transition(incident_id, "resolved", self.now(), who, note)

    def postmortem(self, incident_id: int, **fields):
        """Read (no fields) or write the postmortem of an incident."""
        from headwater.observe.postmortem import PostmortemStore

        store = PostmortemStore(self.platform.ledger.engine)
        if not any(v for v in fields.values()):
            self.incident(incident_id)
            return store.get(incident_id)
        timeline = self.incident(incident_id).timeline
        return store.write(incident_id, self.now(), timeline=timeline, **fields)

    # anomalies -------------------------------------------------------------------
    def outliers(self) -> set[str]:
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from headwater.observe.models import OutlierRow

        with Session(self.platform.ledger.engine) as s:
            return set(s.scalars(select(OutlierRow.ref)))

    def mark_outlier(self, step_id: str, reason: str, product: str | None = None) -> None:
        """Keep a run out of every baseline (a backfill, a sale day). With ``product``, the step
        must be one of that product's runs; nothing is stored unless every check passes."""
        from sqlalchemy.orm import Session

        from headwater.errors import HeadwaterError, NotFoundError
        from headwater.observe.models import OutlierRow

        name = self.project.product(product).name if product is not None else None
        where = name or "PRODUCT"
        try:
            step = self.platform.ledger.step(step_id)
        except NotFoundError:
            raise NotFoundError(f"no step {step_id!r} in the ledger",
                                fix=f"give the step id of a run of {where}: the 'ref' of a score in "
                                    f"'headwater anomalies {where} --days 30 --json'") from None
        if name is not None and step.product != name:
            raise HeadwaterError(f"step {step_id} is a run of {step.product}, not of {name}",
                                 fix=f"exclude it from {step.product}: headwater anomalies {step.product} "
                                     f"--exclude {step_id}, or give a step of {name}")
        with Session(self.platform.ledger.engine) as s, s.begin():
            s.merge(OutlierRow(ref=step_id, reason=reason, created_at=self.now()))

    def anomalies(self, product: str, at: datetime | None = None, evaluated: timedelta | None = None):
        h = History.load(self.platform.ledger, self.project.product(product).name, self.now(at))
        return detect.anomalies(h, outliers=self.outliers(), evaluated=evaluated,
                                threshold=self.project.config.alerting.anomaly_threshold)

    def schema_changes(self, product: str) -> list[detect.SchemaChange]:
        self.project.product(product)
        if not self.platform.lakehouse.exists(product):
            return []
        lookup = {s.step_id: s.finished_at for s in self.platform.ledger.steps(product=product)}
        return detect.schema_changes(self.platform.lakehouse.load(product), product, lookup.get)

    def metrics(self, at: datetime | None = None) -> str:
        from headwater.observe.metrics import exposition

        return exposition(self, self.now(at))


def _paths(project, product: str) -> list[list[str]]:
    """Every chain of products from a product without product inputs down to ``product``."""
    ups = project.upstream_products(product)
    if not ups:
        return [[product]]
    return [p + [product] for u in ups for p in _paths(project, u)]
