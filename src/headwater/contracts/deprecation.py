"""Deprecation is enforced: reads of a deprecated version warn and are recorded for the
consumer; past the sunset date, writes are blocked with an error naming the replacement."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from headwater.contracts.model import Contract, Lifecycle
from headwater.ledger.schema import Base, UtcDateTime

if TYPE_CHECKING:
    from headwater.contracts.service import ContractService


class ContractEventRow(Base):
    """A contract event worth keeping: a read of a deprecated version, a blocked write."""

    __tablename__ = "contract_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    product: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    consumer: Mapped[str | None] = mapped_column(String(200))
    run_id: Mapped[str | None] = mapped_column(String(36))
    step_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str | None] = mapped_column(Text)


class Deprecation:
    def __init__(self, service: ContractService) -> None:
        self.service = service

    def write_blocked(self, contract: Contract) -> str | None:
        """The error text when writes to this version are no longer allowed (None: allowed)."""
        today = self.service.platform.clock.now().date()
        dep = contract.deprecation
        replacement = f"; move to version {dep.replacement}" if dep and dep.replacement else ""
        if contract.status is Lifecycle.RETIRED:
            return f"contract {contract.product} {contract.version} is retired{replacement}"
        if dep is not None and dep.sunset is not None and today > dep.sunset:
            return (f"contract {contract.product} {contract.version} passed its sunset date "
                    f"{dep.sunset.isoformat()}{replacement}")
        return None

    def record_reads(self, consumer, *, run_id: str | None, step_id: str | None) -> list[str]:
        """Record (and return warnings for) every input of ``consumer`` whose contract is deprecated."""
        warnings = []
        for name in getattr(consumer, "inputs", []):
            if name not in self.service.platform.project.products:
                continue
            contract = self.service.contract(name)
            if contract is None or contract.status is Lifecycle.ACTIVE:
                continue
            dep = contract.deprecation
            text = (f"{consumer.name} reads {name} {contract.version}, which is {contract.status.value}"
                    + (f" since {dep.since}" if dep else "")
                    + (f" (sunset {dep.sunset})" if dep and dep.sunset else "")
                    + (f"; move to {dep.replacement}" if dep and dep.replacement else ""))
            self._record("deprecated_read", name, contract.version, consumer.name, run_id, step_id, text)
            warnings.append(text)
        return warnings

    def _record(self, kind, product, version, consumer, run_id, step_id, message) -> None:
        ledger = self.service.platform.ledger
        from sqlalchemy.orm import Session

        with Session(ledger.engine) as s, s.begin():
            s.add(ContractEventRow(id=str(uuid.uuid4()), at=self.service.platform.clock.now(), kind=kind,
                                   product=product, version=version, consumer=consumer,
                                   run_id=run_id, step_id=step_id, message=message))

    def events(self, product: str | None = None) -> list[dict]:
        from sqlalchemy.orm import Session

        q = select(ContractEventRow).order_by(ContractEventRow.at)
        if product:
            q = q.where(ContractEventRow.product == product)
        with Session(self.service.platform.ledger.engine) as s:
            return [{"at": r.at.isoformat(), "kind": r.kind, "product": r.product, "version": r.version,
                     "consumer": r.consumer, "run_id": r.run_id, "message": r.message}
                    for r in s.scalars(q)]
