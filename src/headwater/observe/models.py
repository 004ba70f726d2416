"""Control-plane state of observe: alerts, incidents and their timelines, postmortems, known
outliers. Created by the ``observe`` branch of the ledger migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from headwater.ledger.schema import Base, UtcDateTime


class AlertRow(Base):
    """One firing of a burn-rate rule (or a late source) for one product and SLI."""

    __tablename__ = "observe_alerts"
    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    product: Mapped[str] = mapped_column(String(200))
    sli: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    message: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("observe_incidents.incident_id"))
    details: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_observe_alerts_key_state", "key", "state"),)


class IncidentRow(Base):
    """Alerts sharing a root in the product graph within a window: one incident."""

    __tablename__ = "observe_incidents"
    incident_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    root: Mapped[str] = mapped_column(String(200))
    root_kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_alert_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    affected: Mapped[list | None] = mapped_column(JSON)


class IncidentEventRow(Base):
    __tablename__ = "observe_incident_events"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("observe_incidents.incident_id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)


class PostmortemRow(Base):
    __tablename__ = "observe_postmortems"
    incident_id: Mapped[int] = mapped_column(ForeignKey("observe_incidents.incident_id"), primary_key=True)
    summary: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    timeline: Mapped[list | None] = mapped_column(JSON)
    action_items: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutlierRow(Base):
    """A run known to be unusual on purpose (a backfill, a sale day): kept out of baselines."""

    __tablename__ = "observe_outliers"
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
