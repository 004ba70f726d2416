"""The engine-neutral check plan: every rule of a contract as one Check with its SQL pieces.

A compiler (duckdb_compiler.py) turns a plan into one query per batch; another engine would
compile the same plan. Rules that look at one row are ``row`` checks (they can quarantine);
rules about the whole batch are ``dataset`` checks; schema checks run on the Arrow schema before
any query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from headwater.contracts.model import (
    DATASET_KINDS,
    Column,
    Contract,
    Reference,
    Rule,
    Severity,
    default_id,
)


@dataclass(frozen=True)
class Check:
    """One rule, ready to compile: what it looks at, how bad a failure is, and why."""

    id: str
    kind: str
    severity: Severity
    columns: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    reason: str = ""

    @property
    def level(self) -> str:
        if self.kind == "schema":
            return "schema"
        return "dataset" if self.kind in DATASET_KINDS else "row"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "severity": self.severity.value,
                "columns": list(self.columns), "level": self.level, "reason": self.reason}


@dataclass(frozen=True)
class CheckPlan:
    product: str
    version: str
    checks: tuple[Check, ...]
    contract: Contract

    @property
    def row_checks(self) -> list[Check]:
        return [c for c in self.checks if c.level == "row"]

    @property
    def dataset_checks(self) -> list[Check]:
        return [c for c in self.checks if c.level == "dataset"]

    @property
    def references(self) -> list[str]:
        return sorted({c.params["product"] for c in self.checks if c.kind == "references"})

    def touched_columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.checks:
            for col in c.columns:
                seen.setdefault(col, None)
        return list(seen)


def build_plan(contract: Contract) -> CheckPlan:
    """Expand a contract into checks with unique ids (column shorthands included)."""
    checks: list[tuple[Check, bool]] = []  # each check, and whether its id was written in the contract
    pk = contract.primary_key
    if pk is not None:
        cols = tuple(pk.columns)
        checks.append((Check("primary_key.not_null", "not_null", pk.severity, cols,
                             reason=f"primary key ({', '.join(cols)}) is null"), False))
        checks.append((Check("primary_key.unique", "unique", pk.severity, cols,
                             reason=f"duplicate primary key ({', '.join(cols)})"), False))
    for column in contract.columns:
        for kind in column.implied(pk):
            reason = f"{column.name} is null" if kind == "not_null" else f"duplicate {column.name}"
            checks.append((Check(f"{column.name}.{kind}", kind, Severity.QUARANTINE, (column.name,),
                                 reason=reason), False))
        checks += [(_check(rule, column), rule.id is not None) for rule in column.checks]
    checks += [(_check(rule, None), rule.id is not None) for rule in contract.rules]
    return CheckPlan(contract.product, contract.version, tuple(_numbered(checks)), contract)


def _numbered(checks: list[tuple[Check, bool]]) -> list[Check]:
    """Generated ids made unique (two unnamed range rules on one column: c.range#1, c.range#2).

    An id written in the contract is never renamed: the model rejects one that is used twice or
    that a generated id already has, so results and quarantined rows keep the name the user chose.
    """
    given = [c.id for c, named in checks if named]
    twice = sorted({i for i in given if given.count(i) > 1})
    if twice:
        raise ValueError(f"rule id {twice[0]!r} is used by more than one rule: give each rule its own id")
    generated = [c.id for c, named in checks if not named]
    out, seen = [], {}
    for c, named in checks:
        if named or generated.count(c.id) == 1:
            out.append(c)
            continue
        n = seen[c.id] = seen.get(c.id, 0) + 1
        out.append(Check(f"{c.id}#{n}", c.kind, c.severity, c.columns, c.params, c.reason))
    return out


def _check(rule: Rule, on: Column | None) -> Check:
    kind = rule.kind
    column = on.name if on is not None else None
    default = Severity.BLOCK if kind in DATASET_KINDS else Severity.QUARANTINE
    severity = rule.severity or default
    cols: tuple[str, ...] = (column,) if column else ()
    params: dict[str, Any] = {}
    if kind == "unique":
        if isinstance(rule.unique, list):
            cols = tuple(rule.unique)
        reason = f"duplicate ({', '.join(cols)})"
    elif kind == "not_null":
        reason = f"{column} is null"
    elif kind == "accepted_values":
        params["values"] = list(rule.accepted_values)
        if on is not None and on.family == "string":  # an unquoted 1 is the text '1', not a cast of the column
            params["values"] = [v if v is None or isinstance(v, str) else _text(v) for v in params["values"]]
        shown = ", ".join(map(str, rule.accepted_values[:8])) + (", ..." if len(rule.accepted_values) > 8 else "")
        reason = f"{column} is not one of [{shown}]"
    elif kind in ("range", "length"):
        b = getattr(rule, kind)
        params.update(min=b.min, max=b.max, exclusive=b.exclusive)
        what = column if kind == "range" else f"length({column})"
        op_lo, op_hi = (">", "<") if b.exclusive else (">=", "<=")
        parts = ([f"{what} {op_lo} {b.min}"] if b.min is not None else []) + \
                ([f"{what} {op_hi} {b.max}"] if b.max is not None else [])
        reason = "expected " + " and ".join(parts)
    elif kind == "pattern":
        params["pattern"] = rule.pattern
        reason = f"{column} does not match {rule.pattern}"
    elif kind == "expression":
        params["sql"] = rule.expression
        reason = f"expected {rule.expression}"
    elif kind == "references":
        ref = _reference(rule.references, column)
        cols = tuple(ref.columns)
        params.update(product=ref.product, key=list(ref.key or ref.columns))
        reason = f"({', '.join(cols)}) not found in {ref.product}({', '.join(params['key'])})"
    elif kind == "row_count":
        b = rule.row_count
        params.update(min=b.min, max=b.max, exclusive=b.exclusive)
        reason = f"row count outside [{b.min if b.min is not None else ''}, {b.max if b.max is not None else ''}]"
    elif kind == "freshness":
        cols = (rule.freshness.column,)
        params["within"] = rule.freshness.within
        reason = f"newest {rule.freshness.column} older than {rule.freshness.within}"
    else:  # sql
        params["sql"] = rule.sql
        reason = "custom SQL rule found failing rows"
    rid = rule.id or default_id(column, kind)
    return Check(rid, kind, severity, cols, params, rule.description or reason)


def _reference(value: Reference | str, column: str | None) -> Reference:
    if isinstance(value, str):
        product, _, key = value.partition(".")
        return Reference(product=product, columns=[column] if column else [], key=[key or (column or "")])
    columns = value.columns or ([column] if column else [])
    return Reference(product=value.product, columns=columns, key=value.key or columns)


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
