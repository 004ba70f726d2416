"""The contract file: a versioned promise about one product's columns, keys and rows.

Every rule has a severity: ``block`` fails the batch and commits nothing, ``quarantine`` diverts
the failing rows to ``<product>__quarantine``, ``warn`` only records. Row rules default to
``quarantine``; rules about the whole batch (row count, freshness, custom SQL) cannot divert
rows and default to ``block``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator

from headwater.contracts.rule_checks import (  # noqa: F401 (COLUMN_KINDS, Problem, default_id: re-exported)
    COLUMN_KINDS,
    Problem,
    between,
    column_family,
    default_id,
    fit_problems,
    id_problems,
    parse_sql,
    place_problems,
    report,
)
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
            raise ValueError(f"no count is {between(self.min, self.max, self.exclusive)}: use a 'max' above "
                             f"'min'{' (or leave exclusive out)' if self.exclusive else ''}")
        return self


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
            parse_sql(value, query=False)
        return value

    @field_validator("sql")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is not None:
            parse_sql(value, query=True)
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
        report("Column", [problem for j, rule in enumerate(self.checks)
                          for problem in fit_problems(self, rule, ("checks", j))])
        return self

    @property
    def family(self) -> str:
        """What the declared type compares like: number, date, timestamp, timestamptz, time, string,
        boolean, list or other."""
        return column_family(self.type)

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
                    for problem in place_problems(rule, column, at, kinds)]
        report("Contract", problems + id_problems(self))
        return self

    def rule_sites(self) -> Iterator[tuple[tuple[str | int, ...], str | None, Rule]]:
        """Every rule with where it is written and the column it is on (None at table level)."""
        for i, column in enumerate(self.columns):
            for j, rule in enumerate(column.checks):
                yield ("columns", i, "checks", j), column.name, rule
        for j, rule in enumerate(self.rules):
            yield ("rules", j), None, rule

    @property
    def major(self) -> int:
        return int(_SEMVER.match(self.version).group(1))

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def version_tuple(version: str) -> tuple[int, int, int]:
    m = _SEMVER.match(version)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)
