"""Alerts and incidents in the ledger: fire, group, acknowledge, resolve; MTTD and MTTR.

MTTD = detected_at - started_at (first bad data to the first alert).
MTTR = resolved_at - started_at (first bad data to resolution: how long consumers were hurt).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from headwater.errors import HeadwaterError, NotFoundError
from headwater.observe.grouping import Condition, affected, group
from headwater.observe.models import AlertRow, IncidentEventRow, IncidentRow

SEVERITY_ORDER = {"info": 0, "ticket": 1, "page": 2}
OPEN = ("open", "acknowledged")
STATES = (*OPEN, "resolved")


@dataclass
class Incident:
    incident_id: int
    root: str
    root_kind: str
    title: str
    state: str
    severity: str
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    affected: list[str]
    alerts: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)

    @property
    def mttd(self) -> timedelta:
        return self.detected_at - self.started_at

    @property
    def mttr(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.started_at

    def to_dict(self) -> dict:
        out = {k: v for k, v in vars(self).items()}
        for k in ("started_at", "detected_at", "acknowledged_at", "resolved_at"):
            out[k] = out[k].isoformat() if out[k] else None
        out["mttd_seconds"] = self.mttd.total_seconds()
        out["mttr_seconds"] = self.mttr.total_seconds() if self.mttr is not None else None
        return out


class IncidentStore:
    def __init__(self, engine, project, window: timedelta) -> None:
        self.engine, self.project, self.window = engine, project, window

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def record(self, conditions: list[Condition], at: datetime) -> list[AlertRow]:
        """Persist what fires at ``at``: new alerts (returned, to notify), refreshed ones, resolved
        ones; attach each new alert to the incident of its root (opening one if needed)."""
        with self._session() as s, s.begin():
            return self._apply(s, conditions, at)

    def preview(self, conditions: list[Condition], at: datetime) -> tuple[list[dict], list[dict]]:
        """What ``record`` would change at ``at`` and what would then fire, as alert dicts, with
        nothing stored: the same bookkeeping in a transaction that is rolled back. An alert that
        would open a new incident has ``incident_id`` None (the incident does not exist)."""
        with self._session() as s:
            s.begin()
            try:
                existing = set(s.scalars(select(IncidentRow.incident_id)))
                changed = [alert_dict(a) for a in self._apply(s, conditions, at)]
                s.flush()
                firing = [alert_dict(a) for a in s.scalars(select(AlertRow).where(AlertRow.state == "firing")
                                                           .order_by(AlertRow.fired_at.desc()))]
            finally:
                s.rollback()
        for a in changed + firing:
            if a["incident_id"] not in existing:
                a["incident_id"] = None
        return changed, firing

    def _apply(self, s: Session, conditions: list[Condition], at: datetime) -> list[AlertRow]:
        conditions = _highest_severity(conditions)
        new: list[AlertRow] = []
        firing = {a.key: a for a in s.scalars(select(AlertRow).where(AlertRow.state == "firing"))}
        keys = {c.key for c in conditions}
        active = {a.incident_id for k, a in firing.items() if k in keys and a.incident_id is not None}
        for incident in s.scalars(select(IncidentRow).where(IncidentRow.incident_id.in_(active))):
            incident.last_alert_at = at  # still firing: the incident is still going on
        s.flush()
        recent = list(s.scalars(select(IncidentRow).where(IncidentRow.state.in_(OPEN),
                                                          IncidentRow.last_alert_at >= at - self.window)))
        groups = group(self.project, conditions, {i.root for i in recent})
        for key, row in firing.items():
            if key not in keys:
                row.state, row.resolved_at = "resolved", at
                new.append(row)
                if row.incident_id is not None:
                    s.add(IncidentEventRow(incident_id=row.incident_id, at=at, kind="alert_resolved",
                                           message=f"cleared: {row.message}"))
        for root, members in groups.items():
            incident = next((i for i in recent if i.root == root), None)
            for c in members:
                row = firing.get(c.key)
                if row is not None:
                    row.last_seen_at, row.details = at, c.values
                    if row.severity != c.severity:
                        up = SEVERITY_ORDER[c.severity] > SEVERITY_ORDER[row.severity]
                        if row.incident_id is not None:
                            s.add(IncidentEventRow(incident_id=row.incident_id, at=at, kind="severity",
                                                   message=f"{c.node} {c.sli}: {row.severity} -> {c.severity} "
                                                           f"({c.rule})"))
                        row.severity, row.rule, row.message = c.severity, c.rule, c.message
                        if up:
                            new.append(row)  # an escalation is news; a de-escalation is not
                            parent = s.get(IncidentRow, row.incident_id) if row.incident_id else None
                            if parent is not None and SEVERITY_ORDER[c.severity] > SEVERITY_ORDER[parent.severity]:
                                parent.severity = c.severity
                    continue
                if incident is None:
                    incident = self._open(s, root, c, at)
                    recent.append(incident)
                row = AlertRow(alert_id=str(uuid.uuid4()), key=c.key, product=c.node, sli=c.sli,
                               severity=c.severity, rule=c.rule, state="firing", started_at=c.started_at,
                               fired_at=at, last_seen_at=at, message=c.message,
                               incident_id=incident.incident_id, details=c.values)
                s.add(row)
                new.append(row)
                incident.last_alert_at = at
                if c.started_at is not None and c.started_at < incident.started_at:
                    incident.started_at = c.started_at
                if SEVERITY_ORDER[c.severity] > SEVERITY_ORDER[incident.severity]:
                    incident.severity = c.severity
                s.add(IncidentEventRow(incident_id=incident.incident_id, at=at, kind="alert",
                                       message=f"{c.severity} {c.node} {c.sli}: {c.message}"))
        return new

    def _open(self, s: Session, root: str, c: Condition, at: datetime) -> IncidentRow:
        kind = "source" if root in self.project.sources else "product"
        hit = affected(self.project, root)
        row = IncidentRow(root=root, root_kind=kind, state="open", severity=c.severity,
                          title=f"{root} ({kind}): {len(hit)} product(s) affected",
                          started_at=c.started_at or at, detected_at=at, last_alert_at=at, affected=hit)
        s.add(row)
        s.flush()
        s.add(IncidentEventRow(incident_id=row.incident_id, at=at, kind="opened",
                               message=f"incident opened; affected: {', '.join(hit) or root}"))
        return row

    def transition(self, incident_id: int, state: str, at: datetime, who: str | None = None,
                   note: str | None = None) -> Incident:
        with self._session() as s, s.begin():
            row = s.get(IncidentRow, incident_id)
            if row is None:
                raise NotFoundError(f"no incident {incident_id}", fix="list them with 'headwater incidents list'")
            if row.state == "resolved":
                raise HeadwaterError(f"incident {incident_id} is already resolved",
                                     fix="open a new one by letting the alert fire again")
            # not before it was opened (a resolution before then would make MTTR shorter than
            # MTTD, or negative), and a resolution not before its acknowledgement
            floor = max(t for t in (row.detected_at, row.acknowledged_at) if t is not None)
            if at < floor:
                what = "opened" if floor == row.detected_at else "acknowledged"
                raise HeadwaterError(f"incident {incident_id} cannot be {state} at {at.isoformat()}: it was "
                                     f"{what} at {floor.isoformat()}",
                                     fix=f"give --at {floor.isoformat()} or later, or leave --at out for now")
            if state == "acknowledged":
                if row.state == "acknowledged":
                    raise HeadwaterError(f"incident {incident_id} is already acknowledged",
                                         fix=f"resolve it: headwater incidents resolve {incident_id}")
                row.acknowledged_at, row.acknowledged_by = at, who
            else:
                row.resolved_at = at
            row.state = state
            text = f"{state}" + (f" by {who}" if who else "") + (f": {note}" if note else "")
            s.add(IncidentEventRow(incident_id=incident_id, at=at, kind=state, message=text))
        return self.get(incident_id)

    def get(self, incident_id: int) -> Incident:
        with self._session() as s:
            row = s.get(IncidentRow, incident_id)
            if row is None:
                raise NotFoundError(f"no incident {incident_id}", fix="list them with 'headwater incidents list'")
            alerts = list(s.scalars(select(AlertRow).where(AlertRow.incident_id == incident_id)
                                    .order_by(AlertRow.fired_at)))
            events = list(s.scalars(select(IncidentEventRow).where(IncidentEventRow.incident_id == incident_id)
                                    .order_by(IncidentEventRow.at, IncidentEventRow.event_id)))
        return _incident(row, alerts, events)

    def list(self, state: str | None = None) -> list[Incident]:
        if state is not None and state not in STATES:
            raise HeadwaterError(f"unknown incident state {state!r}", fix=f"use one of: {', '.join(STATES)}")
        with self._session() as s:
            q = select(IncidentRow.incident_id).order_by(IncidentRow.incident_id.desc())
            if state:
                q = q.where(IncidentRow.state == state)
            ids = list(s.scalars(q))
        return [self.get(i) for i in ids]

    def alerts(self, state: str | None = None) -> list[AlertRow]:
        with self._session() as s:
            q = select(AlertRow).order_by(AlertRow.fired_at.desc())
            if state:
                q = q.where(AlertRow.state == state)
            return list(s.scalars(q))


def alert_dict(a: AlertRow) -> dict:
    return {"alert_id": a.alert_id, "key": a.key, "product": a.product, "sli": a.sli, "severity": a.severity,
            "rule": a.rule, "state": a.state, "incident_id": a.incident_id, "message": a.message,
            **{k: getattr(a, k).isoformat() if getattr(a, k) else None
               for k in ("started_at", "fired_at", "last_seen_at", "resolved_at")}}


def _incident(row: IncidentRow, alerts, events) -> Incident:
    return Incident(row.incident_id, row.root, row.root_kind, row.title, row.state, row.severity,
                    row.started_at, row.detected_at, row.acknowledged_at, row.acknowledged_by,
                    row.resolved_at, list(row.affected or []), [alert_dict(a) for a in alerts],
                    [{"at": row.started_at.isoformat(), "kind": "started",
                      "message": f"first bad data (root: {row.root})"}]
                    + [{"at": e.at.isoformat(), "kind": e.kind, "message": e.message} for e in events])


def _highest_severity(conditions: list[Condition]) -> list[Condition]:
    best: dict[tuple[str, str], Condition] = {}
    for c in conditions:
        k = (c.node, c.sli)
        if k not in best or SEVERITY_ORDER[c.severity] > SEVERITY_ORDER[best[k].severity]:
            best[k] = c
    return list(best.values())


def mean(values: list[timedelta]) -> timedelta | None:
    return sum(values, timedelta()) / len(values) if values else None
