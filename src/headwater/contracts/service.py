"""ContractService: what the facade offers about contracts (Platform.contracts)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from headwater.contracts import quarantine
from headwater.contracts.loader import contract_path, load_for
from headwater.contracts.model import Contract
from headwater.contracts.plan import CheckPlan, build_plan
from headwater.contracts.results import CheckRun
from headwater.errors import NotFoundError

if TYPE_CHECKING:
    from headwater.platform import Platform


class ContractService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._cache: dict[str, tuple[float | None, Contract | None, CheckPlan | None]] = {}

    @cached_property
    def gate(self):
        from headwater.contracts.gate import ContractGate

        return ContractGate(self)

    @cached_property
    def deprecation(self):
        from headwater.contracts.deprecation import Deprecation

        return Deprecation(self)

    def _load(self, product: str):
        path = contract_path(self.platform.project, product)
        stamp = path.stat().st_mtime_ns if path is not None else None
        cached = self._cache.get(product)
        if cached is None or cached[0] != stamp:
            contract = load_for(self.platform.project, product) if path is not None else None
            cached = (stamp, contract, build_plan(contract) if contract is not None else None)
            self._cache[product] = cached
        return cached

    def contract(self, product: str) -> Contract | None:
        """The contract of ``product`` (None when it declares none)."""
        return self._load(product)[1]

    def plan_for(self, product: str) -> CheckPlan | None:
        return self._load(product)[2]

    def contracts(self) -> dict[str, Contract]:
        out = {}
        for name in sorted(self.platform.project.products):
            contract = self.contract(name)
            if contract is not None:
                out[name] = contract
        return out

    def check(self, product: str, as_of: str | None = None, samples: int = 5) -> CheckRun:
        """Validate the table's current (or ``as_of``) data against its contract."""
        from headwater.contracts.evaluate import evaluate

        plan = self.plan_for(product)
        if plan is None:
            raise NotFoundError(f"{product!r} has no contract",
                                fix=f"write contracts/{product}.yaml (see docs/contracts.md)")
        scan = self.platform.lakehouse.plan(product, as_of=as_of)
        session = self.platform.engine.session()
        try:
            session.register_plan("__hw_table", scan)
            run, _ = evaluate(session, plan, scan.schema, lakehouse=self.platform.lakehouse, project=self.platform.project,
                              now=self.platform.clock.now(), row_ids=False, samples=samples,
                              relation='"__hw_table"', files=None if scan.delete_files else scan.files)
        finally:
            session.close()
        run.snapshot_id = scan.snapshot_id
        return run

    def conservation(self, product: str, limit: int = 20) -> list[dict[str, Any]]:
        """Per batch step of ``product``: rows in = written + quarantined + filtered, from the ledger."""
        self.platform.project.product(product)
        out = []
        for step in self.platform.ledger.steps(product=product, status="success", limit=limit):
            balance = (step.details or {}).get("conservation")
            if balance:
                out.append({"step_id": step.step_id, "run_id": step.run_id, "partition": step.partition,
                            "finished_at": step.finished_at, **balance})
        return out

    # quarantine -----------------------------------------------------------
    def quarantine_list(self, product: str | None = None) -> list[dict[str, Any]]:
        """Per product and rule: how many rows sit in quarantine, and since when."""
        names = [product] if product else sorted(self.platform.project.products)
        out = []
        for name in names:
            self.platform.project.product(name)
            rows = quarantine.read(self.platform.lakehouse, name)
            if rows is None or rows.num_rows == 0:
                continue
            flat = pc.list_flatten(rows.column("_hw_rules"))
            counts = pc.value_counts(flat).to_pylist()
            out.append({"product": name, "rows": rows.num_rows,
                        "rules": {c["values"]: c["counts"] for c in sorted(counts, key=lambda c: -c["counts"])},
                        "runs": len(pc.unique(rows.column("_hw_run_id"))),
                        "oldest": pc.min(rows.column("_hw_quarantined_at")).as_py(),
                        "newest": pc.max(rows.column("_hw_quarantined_at")).as_py()})
        return out

    def quarantine_rows(self, product: str, rule: str | None = None, limit: int | None = 50) -> pa.Table:
        self.platform.project.product(product)
        rows = quarantine.read(self.platform.lakehouse, product)
        if rows is None:
            raise NotFoundError(f"nothing of {product!r} was ever quarantined",
                                fix=f"its contract has not diverted any rows; see 'headwater contract check {product}'")
        if rule:
            mask = [rule in (r or []) for r in rows.column("_hw_rules").to_pylist()]
            rows = rows.filter(pa.array(mask, pa.bool_()))
        rows = rows.sort_by([("_hw_quarantined_at", "ascending"), ("_hw_id", "ascending")])
        return rows.slice(0, limit) if limit else rows

    def replay(self, product: str, ids: list[str] | None = None, **kwargs):
        from headwater.contracts.replay import replay

        return replay(self, product, ids, **kwargs)
