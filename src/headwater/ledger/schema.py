"""Ledger tables (SQLAlchemy 2). Migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores timezone-aware datetimes only")
        return value.astimezone(timezone.utc).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s",
    })


class RunRow(Base):
    """One invocation: `headwater run`, a backfill, a scheduled tick."""

    __tablename__ = "runs"
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(40))
    command: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(200))
    args: Mapped[dict | None] = mapped_column(JSON)


class StepRow(Base):
    """One product step inside a run: what it read, wrote, cost and committed."""

    __tablename__ = "steps"
    step_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"))
    product: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(20))
    partition: Mapped[str | None] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rows_read: Mapped[int | None] = mapped_column(BigInteger)
    rows_written: Mapped[int | None] = mapped_column(BigInteger)
    bytes_read: Mapped[int | None] = mapped_column(BigInteger)
    bytes_written: Mapped[int | None] = mapped_column(BigInteger)
    cpu_seconds: Mapped[float | None] = mapped_column(Float)
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    input_snapshots: Mapped[dict | None] = mapped_column(JSON)
    output_snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    data_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_steps_product_finished", "product", "finished_at"),
                      Index("ix_steps_run", "run_id"))


class LineageEventRow(Base):
    """An OpenLineage run event: headwater's own, or ingested from Airflow, Spark, dbt..."""

    __tablename__ = "lineage_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(20))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    job_namespace: Mapped[str] = mapped_column(String(500))
    job_name: Mapped[str] = mapped_column(String(500))
    producer: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("run_id", "event_type", "event_time", "job_namespace", "job_name",
                         name="uq_lineage_events_identity"),
        Index("ix_lineage_events_job", "job_namespace", "job_name"),
    )
