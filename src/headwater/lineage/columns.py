"""Column lineage derived from a product's SQL with sqlglot (when no columnLineage facet says it).

For each output column: the input tables' columns it is computed from, with an OpenLineage-style
subtype (IDENTITY, TRANSFORMATION, AGGREGATION). Separately, every input column the query
*references* anywhere (joins, filters, grouping): renaming any of those breaks the query even when
no output column derives from it, which is what impact analysis of a rename needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError


@dataclass
class SqlColumns:
    """What one query does with columns; tables are the names the SQL reads."""

    outputs: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    references: set[tuple[str, str]] = field(default_factory=set)
    problem: str | None = None


def _named(source, column: str, depth: int = 0) -> set[tuple[str, str]]:
    """The base-table columns a reference to ``column`` of ``source`` reaches, through CTEs and
    subqueries that pass it on by name or by ``SELECT *``."""
    if isinstance(source, exp.Table):
        return {(source.name, column)}
    expression = getattr(source, "expression", None)
    if depth > 20 or not isinstance(expression, exp.Select):
        return set()
    found: set[tuple[str, str]] = set()
    for select in expression.selects:
        inner = select.this if isinstance(select, exp.Alias) else select
        if select.alias_or_name == column and isinstance(inner, exp.Column):
            found |= _named(source.sources.get(inner.table), inner.name, depth + 1)
        elif isinstance(inner, exp.Star) or (isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)):
            table = inner.table if isinstance(inner, exp.Column) else ""
            for alias, child in source.sources.items():
                if not table or alias == table:
                    found |= _named(child, column, depth + 1)
    return found


def _subtype(select: exp.Expression) -> str:
    inner = select.this if isinstance(select, exp.Alias) else select
    if isinstance(inner, exp.Column):
        return "IDENTITY"
    return "AGGREGATION" if inner.find(exp.AggFunc) is not None else "TRANSFORMATION"


def sql_columns(sql: str, schema: dict[str, dict[str, str]], dialect: str = "duckdb") -> SqlColumns:
    """Output-column lineage and referenced input columns of one SELECT.

    ``schema`` maps each input table to its columns (and types), so ``SELECT *`` expands and
    unqualified columns resolve; without it explicit columns still resolve when unambiguous.
    """
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope, traverse_scope

    out = SqlColumns()
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
        tree = qualify(tree, schema=schema or None, dialect=dialect, validate_qualify_columns=False,
                       identify=False)
        root = build_scope(tree)
    except SqlglotError as exc:
        out.problem = f"cannot analyse the SQL: {str(exc).splitlines()[0][:200]}"
        return out
    if root is None:
        out.problem = "the SQL is not a query"
        return out
    # what the query names: qualified again without expanding stars, so a CTE's SELECT * does not
    # count as using every column (renaming a column nobody names does not break the query)
    try:
        named = qualify(sqlglot.parse_one(sql, read=dialect), schema=schema or None, dialect=dialect,
                        validate_qualify_columns=False, identify=False, expand_stars=False)
    except SqlglotError:
        named = tree
    for scope in traverse_scope(named):
        for column in scope.columns:
            if not column.name:
                continue
            # unexpanded stars leave some columns unqualified: any source of the scope may hold them
            sources = [scope.sources.get(column.table)] if column.table else list(scope.sources.values())
            for source in sources:
                out.references |= _named(source, column.name)
    selects = {s.alias_or_name: s for s in tree.selects} if isinstance(tree, exp.Query) else {}
    for name in tree.named_selects if isinstance(tree, exp.Query) else ():
        try:
            node = lineage(name, tree, schema=schema or None, scope=root, dialect=dialect, copy=False)
        except SqlglotError:
            out.outputs[name] = []
            continue
        subtype = _subtype(selects[name]) if name in selects else "TRANSFORMATION"
        found: dict[tuple[str, str], str] = {}
        for leaf in node.walk():
            if leaf.downstream or not isinstance(leaf.source, exp.Table):
                continue
            column = leaf.name.rsplit(".", 1)[-1].strip('"')
            if column and column != "*":
                found[(leaf.source.name, column)] = subtype
        out.outputs[name] = [(table, column, kind) for (table, column), kind in sorted(found.items())]
        out.references |= set(found)  # what an output column is computed from is named too
    return out
