"""The run ledger: every run and step, with timings, volumes, cost inputs and snapshot ids.

One source of truth for SLOs, lineage, diagnosis and cost. SQLite by default, PostgreSQL when
configured; the same code and migrations serve both.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, event, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from headwater.clock import SYSTEM_CLOCK, Clock
from headwater.errors import LedgerError, NotFoundError
from headwater.ledger import migrate
from headwater.ledger.schema import LineageEventRow, RunRow, StepRow

TERMINAL = ("success", "failed", "skipped")


@dataclass
class StepMetrics:
    rows_read: int | None = None
    rows_written: int | None = None
    bytes_read: int | None = None
    bytes_written: int | None = None
    cpu_seconds: float | None = None
    peak_memory_bytes: int | None = None
    input_snapshots: dict[str, Any] | None = None
    output_snapshot_id: int | None = None
    data_time: datetime | None = None
    details: dict[str, Any] | None = None


def _engine(url: str):
    try:
        engine = create_engine(url, future=True, pool_pre_ping=url.startswith("postgresql"))
    except (SQLAlchemyError, ImportError) as exc:
        raise LedgerError(f"cannot use ledger URL {url!r}: {exc}",
                          fix="use sqlite:///path or postgresql+psycopg://user@host/db "
                              "(pip install 'headwater[postgres]')") from exc
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # concurrent steps write; WAL lets readers go on
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    return engine


class Ledger:
    """Record and read runs, steps and lineage events."""

    def __init__(self, url: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.url = url
        self.clock = clock
        self.engine = _engine(url)
        try:
            migrate.upgrade(self.engine)
        except OperationalError as exc:
            raise LedgerError(f"cannot open the ledger at {url}: {exc.orig}",
                              fix="check ledger.url / HEADWATER_LEDGER_URL and that the database "
                                  "is reachable") from exc

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # runs -----------------------------------------------------------------
    def start_run(self, project: str, trigger: str, command: str | None = None,
                  args: dict | None = None) -> str:
        run_id = str(uuid.uuid4())
        with self._session() as s, s.begin():
            s.add(RunRow(run_id=run_id, project=project, trigger=trigger, command=command,
                         status="running", started_at=self.clock.now(), pid=os.getpid(),
                         host=socket.gethostname(), args=args))
        return run_id

    def finish_run(self, run_id: str, status: str) -> None:
        with self._session() as s, s.begin():
            s.execute(update(RunRow).where(RunRow.run_id == run_id)
                      .values(status=status, finished_at=self.clock.now()))

    def run(self, run_id: str) -> RunRow:
        with self._session() as s:
            row = s.get(RunRow, run_id)
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in the ledger", fix="list runs with 'headwater runs'")
        return row

    def runs(self, limit: int = 20) -> list[RunRow]:
        with self._session() as s:
            return list(s.scalars(select(RunRow).order_by(RunRow.started_at.desc()).limit(limit)))

    def reap_dead_runs(self) -> list[str]:
        """Mark runs whose process died (SIGKILL, power loss) as failed, with their open steps."""
        host = socket.gethostname()
        reaped = []
        with self._session() as s, s.begin():
            for row in s.scalars(select(RunRow).where(RunRow.status == "running", RunRow.host == host)):
                if row.pid is not None and row.pid != os.getpid() and not _alive(row.pid):
                    now = self.clock.now()
                    row.status, row.finished_at = "failed", now
                    s.execute(update(StepRow).where(StepRow.run_id == row.run_id,
                                                    StepRow.status.in_(("queued", "running")))
                              .values(status="failed", finished_at=now,
                                      error="the process running this step died before it finished; "
                                            "nothing was committed by it"))
                    reaped.append(row.run_id)
        return reaped

    # steps ----------------------------------------------------------------
    def queue_step(self, run_id: str, product: str, lane: str, partition: str | None,
                   trigger: str) -> str:
        step_id = str(uuid.uuid4())
        with self._session() as s, s.begin():
            s.add(StepRow(step_id=step_id, run_id=run_id, product=product, lane=lane,
                          partition=partition, trigger=trigger, status="queued",
                          queued_at=self.clock.now()))
        return step_id

    def start_step(self, step_id: str) -> datetime:
        now = self.clock.now()
        with self._session() as s, s.begin():
            s.execute(update(StepRow).where(StepRow.step_id == step_id)
                      .values(status="running", started_at=now))
        return now

    def finish_step(self, step_id: str, status: str, metrics: StepMetrics | None = None,
                    error: str | None = None) -> datetime:
        if status not in TERMINAL:
            raise ValueError(f"a step finishes as one of {TERMINAL}, not {status!r}")
        now = self.clock.now()
        values: dict[str, Any] = {"status": status, "finished_at": now, "error": error}
        if metrics is not None:
            values.update({k: v for k, v in vars(metrics).items() if v is not None})
        with self._session() as s, s.begin():
            s.execute(update(StepRow).where(StepRow.step_id == step_id).values(**values))
        return now

    def step(self, step_id: str) -> StepRow:
        with self._session() as s:
            row = s.get(StepRow, step_id)
        if row is None:
            raise NotFoundError(f"no step {step_id!r}")
        return row

    def steps(self, product: str | None = None, run_id: str | None = None,
              since: datetime | None = None, status: str | None = None,
              limit: int | None = None) -> list[StepRow]:
        """Steps, newest first, filtered by product, run, start time and status."""
        q = select(StepRow)
        if product:
            q = q.where(StepRow.product == product)
        if run_id:
            q = q.where(StepRow.run_id == run_id)
        if since:
            q = q.where(StepRow.queued_at >= since)
        if status:
            q = q.where(StepRow.status == status)
        q = q.order_by(StepRow.queued_at.desc())
        if limit:
            q = q.limit(limit)
        with self._session() as s:
            return list(s.scalars(q))

    def latest(self, product: str, status: str | None = None) -> StepRow | None:
        found = self.steps(product=product, status=status, limit=1)
        return found[0] if found else None

    # lineage events --------------------------------------------------------
    def record_event(self, event: dict, origin: str = "headwater") -> bool:
        """Store an OpenLineage run event; False when the same event was stored before."""
        from headwater.ledger.openlineage import parse_time

        job = event.get("job") or {}
        row = LineageEventRow(run_id=event["run"]["runId"], event_type=event.get("eventType", "OTHER"),
                              event_time=parse_time(event["eventTime"]),
                              job_namespace=job.get("namespace", ""), job_name=job.get("name", ""),
                              producer=event.get("producer"), origin=origin, payload=event)
        try:
            with self._session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            return False
        return True

    def events(self, job_name: str | None = None, run_id: str | None = None,
               limit: int | None = None) -> list[dict]:
        q = select(LineageEventRow.payload)
        if job_name:
            q = q.where(LineageEventRow.job_name == job_name)
        if run_id:
            q = q.where(LineageEventRow.run_id == run_id)
        q = q.order_by(LineageEventRow.event_time, LineageEventRow.id)
        if limit:
            q = q.limit(limit)
        with self._session() as s:
            return list(s.scalars(q))

    def close(self) -> None:
        self.engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
