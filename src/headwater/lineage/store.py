"""Store OpenLineage events in the ledger's ``lineage_events`` table, validated and idempotent.

Identity is (runId, eventType, eventTime, job namespace, job name), as Marquez keys run events;
a repeated event is a no-op. Job and dataset events (static lineage, no run) are stored with an
empty run id and event type ``JOB`` or ``DATASET``, keyed on their own name and time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from headwater.ledger.openlineage import parse_time
from headwater.ledger.schema import LineageEventRow
from headwater.lineage.validate import Problem, problems


@dataclass
class Rejected:
    """An event that was not stored, and why."""

    index: int
    problems: list[Problem]

    def to_dict(self) -> dict:
        return {"index": self.index, "problems": [str(p) for p in self.problems]}


@dataclass
class IngestResult:
    """What an ingest did: events stored, duplicates skipped, events rejected with reasons."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"received": self.received, "stored": self.stored, "duplicates": self.duplicates,
                "rejected": [r.to_dict() for r in self.rejected]}


def event_kind(event: dict) -> str:
    """RUN, JOB or DATASET: which of the three OpenLineage event types this is."""
    if isinstance(event.get("run"), dict):
        return "RUN"
    return "JOB" if isinstance(event.get("job"), dict) else "DATASET"


def row_values(event: dict, origin: str) -> dict[str, Any]:
    kind = event_kind(event)
    if kind == "RUN":
        run_id, event_type, owner = event["run"]["runId"], event.get("eventType") or "OTHER", event["job"]
    elif kind == "JOB":
        run_id, event_type, owner = "", "JOB", event["job"]
    else:
        run_id, event_type, owner = "", "DATASET", event["dataset"]
    return {"run_id": run_id, "event_type": event_type, "event_time": parse_time(event["eventTime"]),
            "job_namespace": owner["namespace"], "job_name": owner["name"],
            "producer": event.get("producer"), "origin": origin, "payload": event}


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = LineageEventRow.__table__
    return insert(table).on_conflict_do_nothing().returning(table.c.id)


def ingest(ledger, events: Iterable[Any], origin: str = "openlineage",
           validate: bool = True) -> IngestResult:
    """Validate and store many events in one transaction; duplicates (in the batch too) are skipped."""
    result = IngestResult()
    rows: dict[tuple, dict] = {}
    for index, event in enumerate(events):
        result.received += 1
        found = problems(event) if validate else []
        if found:
            result.rejected.append(Rejected(index, found))
            continue
        values = row_values(event, origin)
        key = (values["run_id"], values["event_type"], values["event_time"],
               values["job_namespace"], values["job_name"])
        if key in rows:
            result.duplicates += 1
            continue
        rows[key] = values
    if not rows:
        return result
    with ledger.engine.begin() as s:
        # RETURNING gives one row per event actually inserted (a skipped conflict returns none);
        # executemany rowcounts are not reliable across drivers (psycopg reports every row)
        result.stored = len(s.execute(_insert(ledger.engine.dialect.name), list(rows.values())).all())
    result.duplicates += len(rows) - result.stored
    return result


def load_events(ledger, after_id: int = 0) -> list[tuple[int, dict]]:
    """Every stored event with an id above ``after_id``, oldest first, as (id, payload)."""
    q = (select(LineageEventRow.id, LineageEventRow.payload).where(LineageEventRow.id > after_id)
         .order_by(LineageEventRow.id))
    with ledger._session() as s:
        return [(i, p) for i, p in s.execute(q)]


def latest_id(ledger) -> int:
    """The id of the newest stored event (0 when none): a cheap check before reloading."""
    from sqlalchemy import func

    with ledger.engine.connect() as conn:
        return conn.execute(select(func.max(LineageEventRow.id))).scalar() or 0
