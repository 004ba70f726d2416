"""What a product's SQL reads, found with sqlglot, so undeclared reads are caught before a run."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

FILE_READERS = {"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json",
                "read_json_auto", "read_ndjson", "iceberg_scan", "delta_scan"}


@dataclass(frozen=True)
class SqlProblem:
    message: str
    line: int | None
    fix: str


@dataclass(frozen=True)
class SqlReads:
    tables: frozenset[str]
    problems: tuple[SqlProblem, ...]


def analyse(sql: str, dialect: str = "duckdb") -> SqlReads:
    """The table names a query reads (CTEs excluded) and problems such as direct file reads."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        return SqlReads(frozenset(), (SqlProblem(
            f"SQL does not parse: {str(first.get('description', exc)).split(' but got <Token')[0]}",
            first.get("line"),
            "fix the SQL near that line (it is parsed as DuckDB SQL)",
        ),))
    problems: list[SqlProblem] = []
    if len(statements) != 1:
        problems.append(SqlProblem(
            f"a transform holds exactly one SELECT statement, found {len(statements)}", None,
            "keep one query per .sql file (use CTEs for steps)"))
    tables: set[str] = set()
    for statement in statements:
        if not isinstance(statement, exp.Query):
            problems.append(SqlProblem(
                f"a transform must be a query, found {statement.key.upper()}", None,
                "write a SELECT; headwater does the writing"))
            continue
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if isinstance(table.this, exp.Func) or not table.name:
                continue
            name = table.name.lower()
            if name not in ctes:
                tables.add(name)
        for func in statement.find_all(exp.Func):
            fname = (func.sql_name() if not isinstance(func, exp.Anonymous) else func.name).lower()
            if fname in FILE_READERS:
                problems.append(SqlProblem(
                    f"the SQL reads files directly with {fname}()", None,
                    "declare the file as a source in sources/*.yaml and read it by name"))
    return SqlReads(frozenset(tables), tuple(problems))
