"""Schema changes seen in the change stream, judged before anything is committed.

Compatible changes (a new column, a widening such as int -> bigint) evolve the mirror's Iceberg
schema in the same commit as the rows that bring them. Breaking changes (a dropped column, a
narrowing or a changed type) stop the lane with ``SchemaChangeError`` naming the change and the
contract change it needs; nothing of the batch is committed, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from headwater.errors import HeadwaterError
from headwater.lanes.cdc.changes import META_COLUMNS
from headwater.storage.arrow_types import iceberg_compatible


class SchemaChangeError(HeadwaterError):
    """The source schema changed in a way the mirror (and its contract) cannot absorb."""

    def __init__(self, message: str, *, fix: str, changes: list[SchemaChange]) -> None:
        super().__init__(message, fix=fix)
        self.changes = changes


@dataclass(frozen=True)
class SchemaChange:
    kind: str          # added | dropped | widened | retyped
    column: str
    old: str | None
    new: str | None
    breaking: bool

    def describe(self) -> str:
        if self.kind == "added":
            return f"new column {self.column!r} ({self.new})"
        if self.kind == "dropped":
            return f"column {self.column!r} dropped at the source"
        return f"column {self.column!r} changed type {self.old} -> {self.new}"

    def to_dict(self) -> dict:
        return dict(vars(self))


def _widens(old: pa.DataType, new: pa.DataType) -> bool:
    if old.equals(new):
        return True
    if (old, new) in {(pa.int32(), pa.int64()), (pa.float32(), pa.float64())}:
        return True
    if pa.types.is_decimal(old) and pa.types.is_decimal(new):
        return old.scale == new.scale and new.precision >= old.precision
    return False


def _infer(values: list) -> pa.DataType:
    present = [v for v in values if v is not None]
    if not present:
        return pa.string()
    try:
        return iceberg_compatible(pa.schema([pa.field("v", pa.array(present).type)])).field("v").type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.string()


def check_schema(name: str, current: pa.Schema | None, states: dict, declared: dict[str, pa.DataType],
                 primary_key: list[str], *, allow_drop: bool = False
                 ) -> tuple[pa.Schema, list[SchemaChange]]:
    """The mirror schema after this batch, and the changes it implies (raises if breaking)."""
    from headwater.lanes.cdc.mirror import mirror_schema

    order: list[str] = []
    values: dict[str, list] = {}
    full_rows = 0
    for state in states.values():
        if state.row is None:
            continue
        if state.kind == "upsert":
            full_rows += 1
        for col, val in state.row.items():
            if col not in values:
                order.append(col)
                values[col] = []
            values[col].append(val)
    for col in declared:
        if col not in values:
            order.append(col)
            values[col] = []
    incoming = {c: iceberg_compatible(pa.schema([pa.field(c, declared[c])])).field(c).type
                if c in declared else _infer(values[c]) for c in order}
    if current is None:
        missing = [c for c in primary_key if c not in incoming]
        if missing and incoming:
            raise HeadwaterError(f"the changes for {name!r} have no primary key column {missing[0]!r}",
                                 fix="set primary_key to the source table's key columns")
        return mirror_schema([pa.field(c, t) for c, t in incoming.items()]), []
    existing = {f.name: f.type for f in current if f.name not in META_COLUMNS}
    changes: list[SchemaChange] = []
    fields = []
    for col, old in existing.items():
        new = incoming.get(col)
        if new is None:
            if full_rows:
                changes.append(SchemaChange("dropped", col, str(old), None, True))
                if allow_drop:
                    continue
            fields.append(pa.field(col, old))
        elif old.equals(new) or col not in declared:
            fields.append(pa.field(col, old))  # inferred types never retype a declared column
        elif _widens(old, new):
            changes.append(SchemaChange("widened", col, str(old), str(new), False))
            fields.append(pa.field(col, new))
        else:
            changes.append(SchemaChange("retyped", col, str(old), str(new), True))
            fields.append(pa.field(col, old))
    for col, new in incoming.items():
        if col not in existing:
            changes.append(SchemaChange("added", col, None, str(new), False))
            fields.append(pa.field(col, new))
    breaking = [c for c in changes if c.breaking and not (allow_drop and c.kind == "dropped")]
    if breaking:
        what = "; ".join(c.describe() for c in breaking)
        raise SchemaChangeError(
            f"the source of {name!r} changed incompatibly: {what}",
            fix=(f"this is a breaking change to {name!r}'s contract: publish a new major version of "
                 f"the contract without {breaking[0].column!r} (or with its new type) and tell its "
                 f"consumers; then run 'headwater cdc run {name} --accept-schema-change' to drop the "
                 f"column from the mirror, or fix the source. Nothing of this batch was committed"),
            changes=changes)
    return mirror_schema(fields), changes
