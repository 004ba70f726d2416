"""Data contracts: the promise a product makes, enforced in one pass where data enters.

    model.py      the contract file (pydantic, extra=forbid)       loader.py   located errors
    types.py      column types and how Arrow types match them      plan.py     engine-neutral checks
    duckdb_compiler.py  one single-pass query per batch            results.py  outcomes as data
    gate.py       the gate every lane applies before committing    quarantine.py  store + replay
    diff.py / compat/   change control (headwater, Avro, JSON Schema)
    odcs.py / dcs.py / lint.py  interop with the open standards
"""

from headwater.contracts.model import Contract, Severity
from headwater.contracts.plan import Check, CheckPlan, build_plan

__all__ = ["Check", "CheckPlan", "Contract", "Severity", "build_plan"]
