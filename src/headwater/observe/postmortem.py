"""Postmortems: one per incident; incomplete ones are reported; recurring causes are flagged.

A postmortem is complete with a summary, the impact, the root cause and its category, a
timeline, and at least one action item, each with an owner and a due date. The same root-cause
category in another incident that started within 6 months before is a recurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from headwater.errors import HeadwaterError, NotFoundError
from headwater.observe.models import IncidentRow, PostmortemRow

RECURRENCE_WINDOW = timedelta(days=183)


@dataclass
class ActionItem:
    description: str
    owner: str | None = None
    due: date | None = None

    @classmethod
    def parse(cls, text: str) -> ActionItem:
        """'what | owner | YYYY-MM-DD' (owner and due may be left empty)."""
        parts = [p.strip() for p in text.split("|")] + ["", ""]
        try:
            due = date.fromisoformat(parts[2]) if parts[2] else None
        except ValueError:
            raise HeadwaterError(f"action item due date {parts[2]!r} is not YYYY-MM-DD",
                                 fix="write --action 'what | owner | 2026-12-31'") from None
        return cls(parts[0], parts[1] or None, due)

    def to_dict(self) -> dict:
        return {"description": self.description, "owner": self.owner,
                "due": self.due.isoformat() if self.due else None}


@dataclass
class Postmortem:
    incident_id: int
    summary: str | None
    impact: str | None
    root_cause: str | None
    category: str | None
    timeline: list[dict]
    action_items: list[ActionItem]
    missing: list[str] = field(default_factory=list)
    recurrences: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict:
        return {"incident_id": self.incident_id, "summary": self.summary, "impact": self.impact,
                "root_cause": self.root_cause, "category": self.category, "timeline": self.timeline,
                "action_items": [a.to_dict() for a in self.action_items], "complete": self.complete,
                "missing": self.missing, "recurring": bool(self.recurrences),
                "recurrences": self.recurrences}


def missing_parts(pm: Postmortem) -> list[str]:
    out = [name for name in ("summary", "impact", "root_cause", "category") if not getattr(pm, name)]
    if not pm.timeline:
        out.append("timeline")
    if not pm.action_items:
        out.append("action_items")
    for i, item in enumerate(pm.action_items, 1):
        if not item.owner:
            out.append(f"action_items[{i}].owner")
        if not item.due:
            out.append(f"action_items[{i}].due")
    return out


class PostmortemStore:
    def __init__(self, engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def write(self, incident_id: int, at: datetime, *, timeline: list[dict], summary: str | None = None,
              impact: str | None = None, root_cause: str | None = None, category: str | None = None,
              actions: list[ActionItem] | None = None) -> Postmortem:
        """Create or update the postmortem; given fields replace, actions are added."""
        with self._session() as s, s.begin():
            if s.get(IncidentRow, incident_id) is None:
                raise NotFoundError(f"no incident {incident_id}", fix="list them with 'headwater incidents list'")
            row = s.get(PostmortemRow, incident_id)
            if row is None:
                row = PostmortemRow(incident_id=incident_id, timeline=timeline, action_items=[],
                                    created_at=at, updated_at=at)
                s.add(row)
            for name, value in (("summary", summary), ("impact", impact), ("root_cause", root_cause),
                                ("category", category.strip().lower() if category else None)):
                if value is not None:
                    setattr(row, name, value)
            if actions:
                row.action_items = list(row.action_items or []) + [a.to_dict() for a in actions]
            row.updated_at = at
        return self.get(incident_id)

    def get(self, incident_id: int) -> Postmortem | None:
        with self._session() as s:
            row = s.get(PostmortemRow, incident_id)
            if row is None:
                return None
            pm = _postmortem(row)
            if pm.category:
                started = s.get(IncidentRow, incident_id).started_at
                q = (select(IncidentRow.incident_id, IncidentRow.started_at)
                     .join(PostmortemRow, PostmortemRow.incident_id == IncidentRow.incident_id)
                     .where(PostmortemRow.category == pm.category, IncidentRow.incident_id != incident_id))
                pm.recurrences = sorted(i for i, when in s.execute(q)
                                        if abs(started - when) <= RECURRENCE_WINDOW)
        pm.missing = missing_parts(pm)
        return pm


def _postmortem(row: PostmortemRow) -> Postmortem:
    items = [ActionItem(a["description"], a.get("owner"),
                        date.fromisoformat(a["due"]) if a.get("due") else None) for a in row.action_items or []]
    return Postmortem(row.incident_id, row.summary, row.impact, row.root_cause, row.category,
                      list(row.timeline or []), items)
