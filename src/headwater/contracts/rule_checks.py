"""The cross-field checks behind the contract models in model.py.

A rule's bounds and values against its column's type, the columns a rule names, where a rule may
sit, rule ids, and whether an ``expression`` or ``sql`` rule parses. Each check returns Problems
(where, message, value); ``report`` raises them all at once as one pydantic ValidationError.
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from headwater.contracts.types import parse_type

if TYPE_CHECKING:  # model.py imports this module, so the models are for annotations only
    from headwater.contracts.model import Column, Contract, Reference, Rule


COLUMN_KINDS = ("not_null", "accepted_values", "range", "pattern", "length")  # only under a column's checks
Problem = tuple[tuple[str | int, ...], str, Any]  # where (under the model), "problem: fix", the value


def default_id(column: str | None, kind: str) -> str:
    """The id of a rule that has none: ``<column>.<kind>``, or the kind at table level."""
    return ".".join(p for p in (column, kind) if p)


def between(low: Any, high: Any, exclusive: bool) -> str:
    """The bounds as a message says them, e.g. ``>= 1 and <= 5``."""
    ops = (">", "<") if exclusive else (">=", "<=")
    return " and ".join(f"{op} {v}" for op, v in zip(ops, (low, high)) if v is not None)


def parse_sql(sql: str, *, query: bool) -> None:
    """Raise ValueError with the parser's message unless ``sql`` is one condition (or one query)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    example = "SELECT count(*) FROM batch WHERE amount < 0" if query else "updated_at >= created_at"
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        problem = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", first.get("description") or str(exc))
        if first.get("line"):
            problem += f" (line {first['line']}, column {first['col']})"
        raise ValueError(f"not valid SQL, {problem}: write e.g. {example}") from None
    except TokenError as exc:
        raise ValueError(f"not valid SQL, {exc}: write e.g. {example}") from None
    if len(trees) != 1:
        raise ValueError(f"{'empty' if not trees else 'several statements'}: write one "
                         f"{'query' if query else 'condition'}, e.g. {example}")
    if query and not isinstance(trees[0], exp.Query):
        what = "a condition" if isinstance(trees[0], exp.Condition) else f"a {trees[0].key.upper()} statement"
        raise ValueError(f"{what} is not a query (a condition on each row is an 'expression' rule): "
                         f"write a query over 'batch' that counts the failing rows, e.g. {example}")
    if not query and isinstance(trees[0], exp.Query):
        raise ValueError(f"a query is not a condition on one row: write a condition, e.g. {example} "
                         "(a query over the batch is a 'sql' rule)")


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?"
                  r"(Z|[+-]\d{2}(?::?\d{2})?)?)?$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?$")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_EXAMPLE = {"number": "0", "date": "2025-01-01", "timestamp": "2025-01-01T00:00:00",
            "timestamptz": "2025-01-01T00:00:00Z", "time": "08:30:00", "string": "'A'", "boolean": "true"}
_PLAIN = {"number": ((int, float), "a number"), "string": ((str,), "text"), "boolean": ((bool,), "true or false")}


def column_family(type_text: str) -> str:
    """What a column of this type compares like (see ``Column.family``)."""
    t = parse_type(type_text)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    for name in ("date", "time", "string", "boolean", "list"):
        if getattr(pa.types, f"is_{name}")(t):
            return name
    return "other"


def _value(kind: str, value: Any) -> Any:
    """``value`` as a column of ``kind`` compares it (timestamps in UTC, a naive one read as UTC).

    ValueError(problem) when it does not fit; ValueError(problem, fix) when the usual fix (give a
    value like the example) is not the right one.
    """
    if kind in _PLAIN:
        types, what = _PLAIN[kind]
        if not isinstance(value, types) or isinstance(value, bool) is not (kind == "boolean") \
                or isinstance(value, float) and not math.isfinite(value):  # SQL has no literal for inf or nan
            raise ValueError(f"{value!r} is not {what}")
        return value
    text = value.isoformat() if isinstance(value, date) else value
    m = (_TIME if kind == "time" else _ISO).match(text) if isinstance(text, str) else None
    what = {"time": "a time of day", "date": "an ISO date"}.get(kind, "an ISO timestamp")
    try:
        if m is None:
            raise ValueError(what)
        if kind == "time":
            return time(int(m[1]), int(m[2]), int(m[3] or 0))
        when = datetime(*(int(g or 0) for g in m.groups()[:6]))
    except ValueError:  # also a day or hour out of range, e.g. 2025-02-30
        raise ValueError(f"{value!r} is not {what}") from None
    if kind == "date":
        if m[4] is not None:
            raise ValueError(f"{value!r} has a time of day")
        return when.date()
    offset = m[7] or ""
    if kind == "timestamp" and offset.strip("Z+-0:"):  # DuckDB would drop the offset silently
        raise ValueError(f"{value!r} has a UTC offset, but a timestamp column has no time zone",
                         "give the time without the offset, or declare the column timestamptz")
    digits = offset.strip("Z+-").replace(":", "")
    shift = timedelta(hours=int(digits[:2] or 0), minutes=int(digits[2:] or 0))
    return (when + shift if offset.startswith("-") else when - shift).replace(tzinfo=timezone.utc)


def _misfit(exc: ValueError, column: Column, example: str) -> str:
    problem, fix = (*exc.args, None)[:2]
    return f"{problem}: {fix}" if fix else f"{problem}, and {column.name} is {column.type}: give {example}"


def _taken_as_written(kind: str, value: Any) -> bool:
    """An accepted value of another kind that still fits: a number in quotes, or an unquoted
    number or date for a string column (the plan compares it as text)."""
    if value is None or isinstance(value, bool):
        return value is None
    if kind == "number":
        return isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None
    return kind == "string" and isinstance(value, (int, float, date))


def fit_problems(column: Column, rule: Rule, at: tuple[str | int, ...]) -> list[Problem]:
    """Whether a rule's values fit the column's declared type (or the engine would fail on them)."""
    kind = column.family
    out: list[Problem] = []
    if rule.range is not None:
        b, seen = rule.range, {}
        if kind not in ("number", "date", "timestamp", "timestamptz", "time", "string"):
            message = f"a {column.type} column has no order: use accepted_values or an expression"
            return [(at + ("range",), message, b)]
        for side in ("min", "max"):
            try:
                if getattr(b, side) is not None:
                    seen[side] = _value(kind, getattr(b, side))
            except ValueError as exc:
                example = f"a bound like {_EXAMPLE[kind]}"
                out.append((at + ("range", side), _misfit(exc, column, example), getattr(b, side)))
        if len(seen) == 2 and (seen["min"] > seen["max"] or b.exclusive and seen["min"] == seen["max"]):
            message = f"no value is {between(b.min, b.max, b.exclusive)}: use a 'max' above 'min'"
            out.append((at + ("range",), message, b))
    if rule.length is not None and kind not in ("string", "list"):
        message = (f"a {column.type} column has no length: use range for numbers and dates, "
                   "length for strings and lists")
        out.append((at + ("length",), message, rule.length))
    if rule.accepted_values is not None:
        if kind not in _EXAMPLE:
            message = f"a {column.type} column cannot be compared with a value: use an expression"
            return [*out, (at + ("accepted_values",), message, rule.accepted_values)]
        for value in rule.accepted_values:
            try:
                if not _taken_as_written(kind, value):
                    _value(kind, value)
            except ValueError as exc:
                message = _misfit(exc, column, f"values like {_EXAMPLE[kind]}")
                out.append((at + ("accepted_values",), message, value))
    return out


def place_problems(rule: Rule, column: str | None, at: tuple[str | int, ...],
                   kinds: dict[str, str]) -> list[Problem]:
    """Whether a rule names declared columns and, at table level, says which columns it is about."""
    kind = rule.kind
    if column is None and rule.unique is True:
        message = ("'unique: true' at table level names no column: give the columns, "
                   "e.g. unique: [customer_id, day], or put 'unique: true' on the column")
        return [(at + ("unique",), message, True)]
    if column is None and kind in COLUMN_KINDS:
        alt = " (or 'nullable: false' on it)" if kind == "not_null" else ""
        message = (f"a {kind} rule is about one column, and a table-level rule has none: "
                   f"add it to that column's 'checks:' instead{alt}")
        return [(at + (kind,), message, getattr(rule, kind))]
    if isinstance(rule.unique, list):
        return _undeclared(rule.unique, at + ("unique",), kinds)
    if kind == "freshness":
        name = rule.freshness.column
        if name not in kinds:
            return _undeclared([name], at + ("freshness", "column"), kinds)
        if kinds[name] not in ("date", "timestamp", "timestamptz"):
            message = (f"{name!r} is not a date or timestamp column, so it has no age: "
                       "use a timestamptz, timestamp or date column")
            return [(at + ("freshness", "column"), message, name)]
    if kind == "references":
        return _reference_problems(rule.references, column, at + ("references",), kinds)
    return []


def _reference_problems(ref: Reference | str, column: str | None, at: tuple[str | int, ...],
                        kinds: dict[str, str]) -> list[Problem]:
    product, _, key = ref.partition(".") if isinstance(ref, str) else (ref.product, "", "")
    if not product:
        return [(at, "names no product: write product.column, e.g. stg_customers.customer_id", ref)]
    columns = ([] if isinstance(ref, str) else ref.columns) or ([column] if column else [])
    if not columns:  # the plan would have nothing to join on
        example = key or "customer_id"
        message = (f"a table-level reference names no column here, so it would check nothing: write "
                   f"{{references: {{product: {product}, columns: [{example}], key: [{example}]}}}}, "
                   "or put it in the checks of the column it is about")
        return [(at, message, ref)]
    if isinstance(ref, str):
        return []
    out = _undeclared(ref.columns, at + ("columns",), kinds)
    if ref.key and len(ref.key) != len(columns):
        message = (f"{len(ref.key)} key column(s) for {len(columns)} column(s) ({', '.join(columns)}): "
                   "give one key column per column, in order")
        out.append((at + ("key",), message, ref.key))
    return out


def _undeclared(names: list[str], at: tuple[str | int, ...], kinds: dict[str, str]) -> list[Problem]:
    out = []
    for name in names:
        if name not in kinds:
            close = difflib.get_close_matches(name, list(kinds), n=1)
            fix = f"use {close[0]!r}, or " if close else f"use one of {', '.join(kinds)}, or " if kinds else ""
            message = f"{name!r} is not a column of this contract: {fix}declare it under 'columns:'"
            out.append((at, message, name))
    return out


def id_problems(contract: Contract) -> list[Problem]:
    """A written id must not be one headwater gives another check (results are keyed by id)."""
    pk = contract.primary_key
    taken = {"schema.extra_columns": "the check for undeclared columns"}
    taken |= {f"{c.name}.schema": f"the schema check of {c.name}" for c in contract.columns}
    if pk is not None:
        taken |= {f"primary_key.{kind}": "a primary_key check" for kind in ("not_null", "unique")}
    shorthand = {"not_null": "nullable: false", "unique": "unique: true"}
    for c in contract.columns:
        taken |= {f"{c.name}.{kind}": f"the rule '{shorthand[kind]}' adds on {c.name}" for kind in c.implied(pk)}
    sites = list(contract.rule_sites())
    for at, column, rule in sites:
        if rule.id is None:
            taken.setdefault(default_id(column, rule.kind), f"the rule at {'.'.join(map(str, at))}")
    out = []
    for at, column, rule in sites:
        if rule.id is None:
            continue
        if "#" in rule.id:
            message = f"{rule.id!r} has a '#', which numbers rules without an id: use another id"
            out.append((at + ("id",), message, rule.id))
        elif rule.id in taken:
            message = f"{rule.id!r} is already the id of {taken[rule.id]}: give this rule an id of its own"
            out.append((at + ("id",), message, rule.id))
        else:
            taken[rule.id] = f"the rule at {'.'.join(map(str, at))}"
    return out


def report(title: str, problems: list[Problem]) -> None:
    """Raise every problem at its own key (a ValueError from a model validator names only the model)."""
    if problems:
        raise ValidationError.from_exception_data(title, [
            InitErrorDetails(type=PydanticCustomError("value_error", "{message}", {"message": message}),
                             loc=loc, input=value) for loc, message, value in problems])
