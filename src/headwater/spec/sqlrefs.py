"""What a product's SQL reads, found with sqlglot, so undeclared reads are caught before a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

FILE_READERS = {"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json",
                "read_json_auto", "read_ndjson", "read_ndjson_auto", "read_json_objects",
                "read_json_objects_auto", "read_ndjson_objects", "read_text", "read_blob", "read_xlsx",
                "sniff_csv", "glob", "parquet_metadata", "parquet_schema", "parquet_file_metadata",
                "parquet_kv_metadata", "iceberg_scan", "delta_scan", "st_read", "sqlite_scan",
                "postgres_scan", "mysql_scan"}
SQL_RUNNERS = {"query", "query_table"}  # run SQL held in a string, which no check can see into

_WORDING = {  # purpose -> (several statements, its fix, a statement not a query, its fix)
    "transform": ("a transform holds exactly one SELECT statement, found {n}",
                  "keep one query per .sql file (use CTEs for steps)",
                  "a transform must be a query, found {kind}",
                  "write a SELECT; headwater does the writing"),
    "query": ("'headwater query' runs exactly one SELECT statement, found {n}",
              "run one statement at a time (use CTEs for steps)",
              "'headwater query' only reads: found {kind}",
              "write a SELECT; tables change only through 'headwater run'"),
}


@dataclass(frozen=True)
class SqlProblem:
    message: str
    line: int | None
    fix: str


@dataclass(frozen=True)
class SqlReads:
    tables: frozenset[str]
    problems: tuple[SqlProblem, ...]


def analyse(sql: str, dialect: str = "duckdb", *,
            purpose: Literal["transform", "query"] = "transform") -> SqlReads:
    """The table names a query reads (CTEs excluded) and problems such as direct file reads.

    ``purpose`` words the problems for a product's transform or for an ad hoc query; the
    checks are the same."""
    several, fix_several, not_query, fix_not_query = _WORDING[purpose]
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
        problems.append(SqlProblem(several.format(n=len(statements)), None, fix_several))
    tables: set[str] = set()
    for statement in statements:
        if not isinstance(statement, exp.Query):
            problems.append(SqlProblem(not_query.format(kind=statement.key.upper()), None, fix_not_query))
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
            elif fname in SQL_RUNNERS:
                problems.append(SqlProblem(
                    f"the SQL runs SQL held in a string with {fname}()", None,
                    "write that SQL in the query itself, so headwater sees what it reads"))
    return SqlReads(frozenset(tables), tuple(problems))
