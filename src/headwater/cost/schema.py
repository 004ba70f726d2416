"""Ledger tables owned by cost (migration branch ``cost``): reads served, budget alerts sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from headwater.ledger.schema import Base, UtcDateTime


class ReadRow(Base):
    """Bytes of one product table served to a reader outside the lanes (query, HTTP API)."""

    __tablename__ = "cost_reads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product: Mapped[str] = mapped_column(String(200))
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(40))
    reader: Mapped[str | None] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_cost_reads_product_at", "product", "read_at"),)


class BudgetAlertRow(Base):
    """A budget alert already sent, so each crossing alerts once per month."""

    __tablename__ = "cost_budget_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[float] = mapped_column(Float)
    amount: Mapped[float] = mapped_column(Float)
    budget: Mapped[float] = mapped_column(Float)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("scope", "name", "month", "kind", "threshold",
                                       name="uq_cost_budget_alerts_identity"),)
