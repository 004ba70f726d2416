"""The contract file: a versioned promise about one product's columns, keys and rows.

Every rule has a severity: ``block`` fails the batch and commits nothing, ``quarantine`` diverts
the failing rows to ``<product>__quarantine``, ``warn`` only records. Row rules default to
``quarantine``; rules about the whole batch (row count, freshness, custom SQL) cannot divert
rows and default to ``block``.
"""

from __future__ import annotations

import difflib
import enum
import math
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pyarrow as pa
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from headwater.contracts.types import parse_type
from headwater.spec.config import Strict
from headwater.spec.types import Duration

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.-]+)?$")


class Severity(str, enum.Enum):
    BLOCK = "block"
    QUARANTINE = "quarantine"
    WARN = "warn"


class Lifecycle(str, enum.Enum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class Bounds(Strict):
    """Bounds on a column's values, inclusive unless ``exclusive`` (either side may be left out).

    They must fit the column's type (checked by ``Column``): numbers for numeric columns, ISO
    dates or timestamps (quoted or not) for date and timestamp columns, text for string columns.
    """

    min: int | float | str | None = Field(
        default=None, description="Lower bound: a number, a date or a timestamp.", examples=[0, "2025-01-01"])
    max: int | float | str | None = Field(default=None, description="Upper bound.")
    exclusive: bool = Field(default=False, description="Exclude the bounds themselves.")

    @field_validator("min", "max", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        if isinstance(value, bool):  # pydantic reports a ValueError at its key; a TypeError escapes
            raise ValueError(f"{value} is not a bound: give a number, a date or a timestamp")  # noqa: TRY004
        if isinstance(value, date):  # an unquoted YAML date or timestamp; the compiler quotes text
            return value.isoformat()
        return value

    @model_validator(mode="after")
    def _one_side(self) -> Bounds:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        return self


class Count(Strict):
    """Bounds on a count (rows in a batch, characters in a value): whole numbers from 0."""

    min: int | None = Field(default=None, description="The smallest count allowed.", examples=[1])
    max: int | None = Field(default=None, description="The largest count allowed.")
    exclusive: bool = Field(default=False, description="Exclude the bounds themselves.")

    @field_validator("min", "max", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not a count: give a whole number from 0, e.g. 10")
        if value < 0:
            raise ValueError(f"{value} is negative: give a whole number from 0")
        return int(value)

    @model_validator(mode="after")
    def _not_empty(self) -> Count:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        step = int(self.exclusive)
        if self.max is not None and (self.min or 0) + step > self.max - step:
            raise ValueError(f"no count is {_between(self.min, self.max, self.exclusive)}: use a 'max' above "
                             f"'min'{' (or leave exclusive out)' if self.exclusive else ''}")
        return self


def _between(low: Any, high: Any, exclusive: bool) -> str:
    ops = (">", "<") if exclusive else (">=", "<=")
    return " and ".join(f"{op} {v}" for op, v in zip(ops, (low, high)) if v is not None)


class Reference(Strict):
    """Referential integrity: every non-null value must exist in another product's key."""

    product: str = Field(min_length=1, description="The product (or raw source) holding the key, e.g. stg_customers.")
    columns: list[str] = Field(default_factory=list, description="Columns here (default: the column the rule is on).")
    key: list[str] = Field(default_factory=list, description="Key columns there (default: the same names).")


class Freshness(Strict):
    column: str = Field(description="A declared date or timestamp column; its newest value must be recent.")
    within: Duration = Field(description="How old the newest value may be, e.g. 2h.")


RULE_KINDS = ("not_null", "unique", "accepted_values", "range", "pattern", "length", "expression",
              "references", "row_count", "freshness", "sql")
DATASET_KINDS = ("row_count", "freshness", "sql")
COLUMN_KINDS = ("not_null", "accepted_values", "range", "pattern", "length")  # only under a column's checks


def default_id(column: str | None, kind: str) -> str:
    """The id of a rule that has none: ``<column>.<kind>``, or the kind at table level."""
    return ".".join(p for p in (column, kind) if p)


class Rule(Strict):
    """One rule: exactly one of the kind keys, plus an optional id, severity and reason."""

    id: str | None = Field(default=None, min_length=1, description=(
        "Stable id, unique in the contract (default: <column>.<kind>; '#' is kept for numbering those)."))
    severity: Severity | None = Field(default=None, description="block, quarantine or warn.")
    description: str | None = Field(default=None, description="Reason shown with failing rows.")
    not_null: bool | None = Field(default=None, description="Values must not be null.")
    unique: bool | list[str] | None = Field(
        default=None, description="true on a column; a list of columns on the table (composite).")
    accepted_values: list[Any] | None = Field(default=None, description="The only values allowed.")
    range: Bounds | None = Field(default=None, description="Values between min and max (numbers, dates, timestamps).")
    pattern: str | None = Field(default=None, description="A regular expression every value must match fully.")
    length: Count | None = Field(default=None, description="Bounds on the length of a string or list.")
    expression: str | None = Field(
        default=None, description="A SQL condition every row must satisfy, e.g. updated_at >= created_at.")
    references: Reference | str | None = Field(
        default=None, description="'product.column' or {product, columns, key}.")
    row_count: Count | None = Field(default=None, description="Bounds on the rows in a batch.")
    freshness: Freshness | None = Field(default=None, description="The newest value must be recent.")
    sql: str | None = Field(
        default=None, description="A query over 'batch' returning the number of failing rows (0 passes).")

    @field_validator("accepted_values")
    @classmethod
    def _some_values(cls, value: list[Any] | None) -> list[Any] | None:
        if value is not None and not value:
            raise ValueError("an empty list lets no value through: give the values allowed, e.g. [placed, shipped]")
        return value

    @field_validator("unique")
    @classmethod
    def _some_columns(cls, value: bool | list[str] | None) -> bool | list[str] | None:
        if isinstance(value, list) and not value:
            raise ValueError("an empty list names no column: give the columns, e.g. [customer_id, day]")
        return value

    @field_validator("expression")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        if value is not None:
            _parse(value, query=False)
        return value

    @field_validator("sql")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is not None:
            _parse(value, query=True)
        return value

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Rule:
        kinds = [k for k in RULE_KINDS if getattr(self, k) not in (None, False)]
        if len(kinds) != 1:
            found = f"found {', '.join(kinds)}" if kinds else "found none"
            raise ValueError(f"a rule has exactly one of {', '.join(RULE_KINDS)} ({found})")
        if kinds[0] in DATASET_KINDS and self.severity is Severity.QUARANTINE:
            raise ValueError(f"a {kinds[0]} rule is about the whole batch and cannot quarantine rows: "
                             "use severity block or warn")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except (re.error, OverflowError) as exc:  # OverflowError: a repeat count like {4294967296}
                raise ValueError(f"pattern {self.pattern!r} is not a regular expression: {exc}") from None
        return self

    @property
    def kind(self) -> str:
        return next(k for k in RULE_KINDS if getattr(self, k) not in (None, False))


def _parse(sql: str, *, query: bool) -> None:
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
Problem = tuple[tuple[str | int, ...], str, Any]  # where (under the model), "problem: fix", the value


def _family(type_text: str) -> str:
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


def _fit_problems(column: Column, rule: Rule, at: tuple[str | int, ...]) -> list[Problem]:
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
            message = f"no value is {_between(b.min, b.max, b.exclusive)}: use a 'max' above 'min'"
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


def _place_problems(rule: Rule, column: str | None, at: tuple[str | int, ...],
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


def _report(title: str, problems: list[Problem]) -> None:
    """Raise every problem at its own key (a ValueError from a model validator names only the model)."""
    if problems:
        raise ValidationError.from_exception_data(title, [
            InitErrorDetails(type=PydanticCustomError("value_error", "{message}", {"message": message}),
                             loc=loc, input=value) for loc, message, value in problems])


class Column(Strict):
    name: str = Field(description="Column name in the product's output.")
    type: str = Field(description="string, long, double, decimal(p,s), timestamptz, list<T>, struct<...>...")
    nullable: bool = Field(default=True, description="false adds a not_null rule (quarantine).")
    unique: bool = Field(default=False, description="true adds a unique rule (quarantine).")
    description: str = ""
    pii: bool = Field(default=False, description="Personal data: masked in samples and exports.")
    checks: list[Rule] = Field(default_factory=list, description="Rules on this column.")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        parse_type(value)
        return value

    @model_validator(mode="after")
    def _checks_fit_type(self) -> Column:
        _report("Column", [problem for j, rule in enumerate(self.checks)
                           for problem in _fit_problems(self, rule, ("checks", j))])
        return self

    @property
    def family(self) -> str:
        """What the declared type compares like: number, date, timestamp, timestamptz, time, string,
        boolean, list or other."""
        return _family(self.type)

    def implied(self, pk: PrimaryKey | None) -> list[str]:
        """The rule kinds ``nullable: false`` and ``unique: true`` add (unless the primary key has them)."""
        kinds = [] if self.nullable or (pk and self.name in pk.columns) else ["not_null"]
        return kinds + (["unique"] if self.unique and not (pk and pk.columns == [self.name]) else [])


class PrimaryKey(Strict):
    columns: list[str] = Field(min_length=1)
    severity: Severity = Field(default=Severity.QUARANTINE,
                               description="What a duplicate or null key does (default quarantine).")


class Deprecation(Strict):
    since: date = Field(description="When the version was deprecated.")
    sunset: date | None = Field(default=None, description="After this date writes are blocked.")
    replacement: str | None = Field(default=None, description="The version (or contract file) to move to.")


class ContractOwner(Strict):
    team: str
    contact: str | None = None


class ContractConsumer(Strict):
    name: str
    owner: str | None = None
    contact: str | None = None


class Contract(Strict):
    """A versioned contract for one product (``contracts/<product>.yaml``)."""

    product: str = Field(description="The product this contract is for.")
    version: str = Field(description="Semantic version, e.g. 1.2.0; a breaking change bumps the major.")
    status: Lifecycle = Field(default=Lifecycle.ACTIVE, description="active, deprecated or retired.")
    deprecation: Deprecation | None = None
    description: str = ""
    owner: ContractOwner | None = Field(default=None, description="Default: the product's owner.")
    consumers: list[ContractConsumer] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list)
    primary_key: PrimaryKey | None = None
    rules: list[Rule] = Field(default_factory=list, description="Table-level rules.")
    extra_columns: Severity | None = Field(
        default=Severity.WARN, description="Columns not in the contract: warn (default), block, or null to allow.")
    extensions: dict[str, Any] = Field(
        default_factory=dict, description="What other standards say that headwater does not model "
                                          "(kept by 'contract import' so an export gives it back).")

    @field_validator("version", mode="before")
    @classmethod
    def _semver(cls, value: Any) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            suggestion = ".".join((str(value).split(".") + ["0", "0"])[:3])
            raise ValueError(f"{value} is a number to YAML, not a semantic version: write MAJOR.MINOR.PATCH, "  # noqa: TRY004
                             f"e.g. version: {suggestion} (quoted or not)")
        if not isinstance(value, str) or not _SEMVER.match(value):
            raise ValueError(f"version {value!r} is not semantic (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
        return str(value)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _pk_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"columns": [value]}
        return {"columns": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _cross_check(self) -> Contract:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"column {dupes[0]!r} is declared twice")
        if self.primary_key:
            missing = [c for c in self.primary_key.columns if c not in names]
            if missing and self.columns:
                raise ValueError(f"primary_key column {missing[0]!r} is not among the columns")
        if self.status is Lifecycle.DEPRECATED and self.deprecation is None:
            raise ValueError("a deprecated contract needs 'deprecation: {since: YYYY-MM-DD, sunset: ..., "
                             "replacement: ...}'")
        return self

    @model_validator(mode="after")
    def _rules_fit_columns(self) -> Contract:
        """Every rule names declared columns, sits where it can be evaluated, and has an id of its own."""
        kinds = {c.name: c.family for c in self.columns}
        problems = [problem for at, column, rule in self.rule_sites()
                    for problem in _place_problems(rule, column, at, kinds)]
        _report("Contract", problems + self._id_problems())
        return self

    def rule_sites(self) -> Iterator[tuple[tuple[str | int, ...], str | None, Rule]]:
        """Every rule with where it is written and the column it is on (None at table level)."""
        for i, column in enumerate(self.columns):
            for j, rule in enumerate(column.checks):
                yield ("columns", i, "checks", j), column.name, rule
        for j, rule in enumerate(self.rules):
            yield ("rules", j), None, rule

    def _id_problems(self) -> list[Problem]:
        """A written id must not be one headwater gives another check (results are keyed by id)."""
        pk = self.primary_key
        taken = {"schema.extra_columns": "the check for undeclared columns"}
        taken |= {f"{c.name}.schema": f"the schema check of {c.name}" for c in self.columns}
        if pk is not None:
            taken |= {f"primary_key.{kind}": "a primary_key check" for kind in ("not_null", "unique")}
        shorthand = {"not_null": "nullable: false", "unique": "unique: true"}
        for c in self.columns:
            taken |= {f"{c.name}.{kind}": f"the rule '{shorthand[kind]}' adds on {c.name}" for kind in c.implied(pk)}
        sites = list(self.rule_sites())
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

    @property
    def major(self) -> int:
        return int(_SEMVER.match(self.version).group(1))

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def version_tuple(version: str) -> tuple[int, int, int]:
    m = _SEMVER.match(version)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)
