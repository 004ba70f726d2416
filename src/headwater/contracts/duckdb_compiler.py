"""Compile a check plan to DuckDB: one pass over a batch for per-rule counts or per-row verdicts.

``contract check`` (count mode) runs one aggregate: a ``count_if`` per row rule. The gate (row
mode) gets the failing rows, each with a bit mask of the rules it broke (one BIGINT per 62
rules); counts are summed from the masks, and the split reuses them. When every rule reads only
its own row, the pass projects "fails any rule" per row, in order, and the masks are computed
for those rows alone (ADR 0010); otherwise one pass selects the failing rows with their masks.
Uniqueness on one integer key of narrow range is counted in numpy as the key column streams
past (count mode) or found in numpy before the pass (row mode), see keys.py; other keys use a
hash aggregate over the key columns only. Referential integrity is a hash join on the parent's
distinct keys; batch-level rules are aggregates (custom SQL rules are scalar subqueries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from headwater.arrays import sorted_union
from headwater.contracts.plan import Check, CheckPlan
from headwater.contracts.regex_glob import glob
from headwater.contracts.results import CheckResult, CheckStatus, status_for

ROW_ID = "__hw_row"
BATCH = "__hw_batch"
BITS = 62
CASE_VALUES = 16  # accepted values up to this many are a CASE, more a NOT IN (a hash join)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return repr(value) if not isinstance(value, Decimal) else str(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Compiled:
    sql: str                     # one row: the batch's size, per-rule counts (count mode), batch rules
    row_checks: list[Check]
    dataset_checks: list[Check]
    masks: int
    references: dict[str, str] = field(default_factory=dict)  # view name -> product
    rows_sql: str | None = None  # row mode: the failing rows, each with the masks of rules it broke
    external: dict[int, np.ndarray] = field(default_factory=dict)  # row check -> failing rows found outside
    # row mode, rules that each read one row only: per row of the relation, in order, whether it
    # fails any rule; ``failing_sql`` (``rows_sql`` on FAILING: those rows with their ``__hw_row``)
    any_sql: str | None = None
    failing_sql: str | None = None
    columns: list[str] | None = None  # the columns ``failing_sql`` reads from FAILING


FAILING = "__hw_failing"


def compile_plan(plan: CheckPlan, *, relation: str = BATCH, row_ids: bool = True, samples: int = 5,
                 existing: str | None = None, masked: frozenset[str] = frozenset(),
                 strings: frozenset[str] | None = None, external: dict[str, np.ndarray] | None = None,
                 counted: dict[str, int] | None = None) -> Compiled:
    """The query for a batch.

    Count mode (``row_ids=False``, ``contract check``): one aggregate pass with a count per rule.
    Row mode (the gate): the batch has ``__hw_row``; one pass returns only the failing rows with
    a bit mask of the rules each broke (counts are summed from the masks), and a second query
    that reads no column counts the rows and evaluates the batch rules. If every rule reads its
    own row only, ``any_sql`` and ``failing_sql`` do the same for a caller holding the batch.

    ``external``: row mode, rules already evaluated outside the engine (the sorted
    positions of the rows that fail them). ``counted``: count mode, the failure counts of rules
    evaluated outside the engine (pattern rules, patterns.py; unique rules on an integer key,
    keys.py); the pass does not read their columns for them.
    ``existing``: a relation holding rows already in the table; keys found there count as
    duplicates too (used when replaying quarantined rows into a table).
    """
    rows, dataset = plan.row_checks, plan.dataset_checks
    external, counted = external or {}, counted or {}
    joins, flags, ctes = [], [], []
    overrides: dict[int, str] = {}
    samples_override: dict[int, str] = {}
    refs: dict[str, str] = {}
    outside: dict[int, np.ndarray] = {}
    for i, check in enumerate(rows):
        cols = [q(c) for c in check.columns]
        if row_ids and check.id in external and (check.kind != "unique" or existing is None):
            outside[i] = external[check.id]
            cond = "false"
        elif not row_ids and check.id in counted:
            overrides[i] = f"{int(counted[check.id])}::BIGINT"
            cond = "false"
        elif check.kind == "unique":
            # Duplicated keys come from a hash aggregate over the key columns only; rows are then
            # ranked only among those keys, so the wide row never goes through a window.
            keys = ", ".join(cols)
            nn = " AND ".join(f"{c} IS NOT NULL" for c in cols)
            ctes.append(f"__hw_u{i} AS (SELECT {keys}, count(*) AS __c FROM {relation} WHERE {nn} "
                        f"GROUP BY {keys} HAVING count(*) > 1)")
            overrides[i] = f"(SELECT coalesce(sum(__c - 1), 0) FROM __hw_u{i})"
            if not row_ids:
                fields = ", ".join(f"{q(c)} := " + ("'***'" if c in masked else q(c)) for c in check.columns)
                samples_override[i] = (f"(SELECT list(struct_pack({fields}, occurrences := __c)) "
                                       f"FROM (SELECT * FROM __hw_u{i} LIMIT {samples or 1}))")
                cond = "false"
            else:
                on = " AND ".join(f"r.{c} = u.{c}" for c in cols)
                part = ", ".join(f"r.{c}" for c in cols)
                ctes.append(f"__hw_d{i} AS (SELECT __hw_row AS __hw_dr{i} FROM (SELECT r.{q(ROW_ID)} AS __hw_row, "
                            f"row_number() OVER (PARTITION BY {part} ORDER BY r.{q(ROW_ID)}) AS __rn "
                            f"FROM {relation} r SEMI JOIN __hw_u{i} u ON {on}) WHERE __rn > 1)")
                joins.append(f"LEFT JOIN __hw_d{i} d{i} ON b.{q(ROW_ID)} = d{i}.__hw_dr{i}")
                cond = f"d{i}.__hw_dr{i} IS NOT NULL"
                overrides.pop(i)
            if existing is not None:
                ekeys = ", ".join(f"{c} AS __hw_e{i}_{j}" for j, c in enumerate(cols))
                eon = " AND ".join(f"b.{c} = e{i}.__hw_e{i}_{j}" for j, c in enumerate(cols))
                joins.append(f"LEFT JOIN (SELECT DISTINCT {ekeys}, true AS __hit FROM {existing}) e{i} ON {eon}")
                cond = f"({cond}) OR ({_all_not_null(cols, 'b')} AND e{i}.__hit IS NOT NULL)"
                overrides.pop(i, None)
                samples_override.pop(i, None)
        elif check.kind == "references":
            view = f"__hw_ref_{check.params['product']}"
            refs[view] = check.params["product"]
            keys = ", ".join(f"{q(k)} AS __hw_k{i}_{j}" for j, k in enumerate(check.params["key"]))
            on = " AND ".join(f"b.{c} = r{i}.__hw_k{i}_{j}" for j, c in enumerate(cols))
            joins.append(f"LEFT JOIN (SELECT DISTINCT {keys}, true AS __hit FROM {q(view)}) r{i} ON {on}")
            cond = f"{_all_not_null(cols, 'b')} AND r{i}.__hit IS NULL"
        else:
            cond = row_condition(check, "b", strings)
        # NULL reads as "passes" in count_if, CASE WHEN and WHERE alike; a coalesce per flag cost 10% of the pass
        flags.append(f"({cond}) AS __hw_f{i}")
    masks = (len(rows) + BITS - 1) // BITS
    fresh = [c for c in dataset if c.kind == "freshness"]
    batch_aggs = ["count(*) AS __hw_n"] + [f"max({q(c.columns[0])}) AS __hw_fresh{k}" for k, c in enumerate(fresh)]
    batch_aggs += [f"({c.params['sql'].strip().rstrip(';')}) AS __hw_sql{k}"
                   for k, c in enumerate(c for c in dataset if c.kind == "sql")]
    # Only the columns the rules read travel through the joins (not the whole row).
    elsewhere = frozenset(counted) | frozenset(rows[i].id for i in outside)
    eager = [i for i, c in enumerate(rows) if samples and c.kind not in _LAZY and i not in samples_override
             and i not in overrides]  # count mode: sampled in the pass (joins); the others afterwards (sample_sql)
    needed = _needed(plan, row_ids, elsewhere, with_key=not row_ids and bool(eager))
    cols_sql = "*" if needed is None else ", ".join(q(c) for c in needed) or "1 AS __hw_one"
    source = f"(SELECT {cols_sql} FROM {relation}) b"
    with_ = f"WITH {', '.join(ctes)} " if ctes else ""
    if row_ids:
        live = [i for i in range(len(rows)) if i not in outside]
        mask_exprs = []
        for m in range(masks):
            bits = [f"(CASE WHEN __hw_f{i} THEN {1 << (i - m * BITS)}::BIGINT ELSE 0::BIGINT END)"
                    for i in range(m * BITS, min(len(rows), (m + 1) * BITS)) if i in live]
            mask_exprs.append((" + ".join(bits) or "0::BIGINT") + f" AS __hw_m{m}")
        inner = f"SELECT {', '.join([f'b.{q(ROW_ID)}'] + flags)} FROM {source} {' '.join(joins)}"
        any_fail = " OR ".join(f"__hw_f{i}" for i in live) or "false"
        sql = f"SELECT {', '.join(batch_aggs)} FROM {relation}"
        if not joins and not ctes and needed is not None and _row_local(plan):
            # Every rule reads its own row: DuckDB projects "fails any" per row in order (as cheap
            # as counting; a WHERE over the OR of the flags costs ~25% more), and the masks are
            # built for the failing rows only, taken from the batch (evaluate.py).
            data = [c for c in needed if c != ROW_ID]
            plain = f"(SELECT {', '.join(q(c) for c in data) or '1 AS __hw_one'} FROM {relation}) b"
            any_sql = (f"SELECT ({any_fail}) AS __hw_any FROM (SELECT {', '.join(flags) or 'false AS __hw_none'} "
                       f"FROM {plain}) v")
            few = f"SELECT {', '.join([f'b.{q(ROW_ID)}'] + flags)} FROM (SELECT {cols_sql} FROM {FAILING}) b"
            failing_sql = f"SELECT {q(ROW_ID)}, {', '.join(mask_exprs)} FROM ({few}) v WHERE {any_fail}"
            rows_sql = f"SELECT {q(ROW_ID)}, {', '.join(mask_exprs)} FROM ({inner}) v WHERE {any_fail}"
            return Compiled(sql, rows, dataset, masks, refs, rows_sql, outside, any_sql, failing_sql, data)
        rows_sql = f"{with_}SELECT {q(ROW_ID)}, {', '.join(mask_exprs)} FROM ({inner}) v WHERE {any_fail}"
        return Compiled(sql, rows, dataset, masks, refs, rows_sql, outside)
    inner_cols = [f"b.{q(c.columns[0])} AS __hw_d{k}" for k, c in enumerate(fresh)]
    sample_cols = sorted({c for i in eager for c in rows[i].columns} | set(_pk(plan))) if eager else []
    inner_cols += [f"b.{q(c)} AS {q('__hw_s_' + c)}" for c in sample_cols]
    inner_cols += flags
    inner = f"SELECT {', '.join(inner_cols) or '1 AS __hw_one'} FROM {source} {' '.join(joins)}"
    aggs = ["count(*) AS __hw_n"]
    aggs += [f"{overrides[i]} AS __hw_c{i}" if i in overrides else f"count_if(__hw_f{i}) AS __hw_c{i}"
             for i in range(len(rows))]
    if samples:
        for i, check in enumerate(rows):
            if i in samples_override:
                aggs.append(f"{samples_override[i]} AS __hw_x{i}")
            elif i in eager:
                cols = list(dict.fromkeys(list(_pk(plan)) + list(check.columns)))
                pack = ", ".join(f"{q(c)} := " + ("'***'" if c in masked else q('__hw_s_' + c)) for c in cols)
                aggs.append(f"min_by(struct_pack({pack}), 1, {samples}) FILTER (WHERE __hw_f{i}) AS __hw_x{i}")
    aggs += [f"max(__hw_d{k}) AS __hw_fresh{k}" for k, _ in enumerate(fresh)]
    aggs += [f"({c.params['sql'].strip().rstrip(';')}) AS __hw_sql{k}"
             for k, c in enumerate(c for c in dataset if c.kind == "sql")]
    sql = f"{with_}SELECT {', '.join(aggs)} FROM ({inner}) w"
    return Compiled(sql, rows, dataset, masks, refs)


_LAZY = ("not_null", "accepted_values", "range", "length", "pattern", "expression")


def sample_sql(plan: CheckPlan, check: Check, relation: str, k: int, masked: frozenset[str],
               strings: frozenset[str] | None) -> str | None:
    """A query for up to ``k`` rows failing ``check`` (stops at k rows; used after the counting pass)."""
    if check.kind not in _LAZY:
        return None
    cols = list(dict.fromkeys(list(_pk(plan)) + list(check.columns) + expression_columns(check)))
    pick = ", ".join(("'***'" if c in masked else f"b.{q(c)}") + f" AS {q(c)}" for c in cols) or "1 AS __hw_one"
    return f"SELECT {pick} FROM {relation} b WHERE coalesce(({row_condition(check, 'b', strings)}), false) LIMIT {k}"


def expression_columns(check: Check) -> list[str]:
    """The columns an expression rule reads (shown in its samples); [] for other rules or unparsable SQL."""
    from sqlglot import exp

    tree = _expression(check) if check.kind == "expression" else None
    return [] if tree is None else list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))


def _needed(plan: CheckPlan, row_ids: bool, outside: frozenset[str] = frozenset(),
            with_key: bool = True) -> list[str] | None:
    """Columns the row rules read (None: an expression could not be parsed, so read all).

    ``outside``: rules evaluated outside the pass; their columns are read only if another rule needs them.
    ``with_key``: also the primary key (for samples taken in the pass).
    """
    from sqlglot import exp

    cols: dict[str, None] = {ROW_ID: None} if row_ids else {}
    for c in (list(_pk(plan)) if with_key else []) + [c for check in plan.checks if check.kind != "sql" and check.id not in outside
                                for c in check.columns]:
        cols.setdefault(c, None)
    for check in plan.checks:
        if check.kind == "expression":
            tree = _expression(check)
            if tree is None:
                return None
            for column in tree.find_all(exp.Column):
                cols.setdefault(column.name, None)
    return list(cols)


def _row_local(plan: CheckPlan) -> bool:
    """Whether every expression rule reads its own row only (no window, no subquery, no aggregate)."""
    from sqlglot import exp

    trees = [_expression(c) for c in plan.row_checks if c.kind == "expression"]
    return all(t is not None and not t.find(exp.Window, exp.Subquery, exp.Select, exp.AggFunc) for t in trees)


def _expression(check: Check):
    """An expression rule's SQL parsed by sqlglot (DuckDB dialect), None if it does not parse."""
    import sqlglot

    try:
        return sqlglot.parse_one(check.params["sql"], read="duckdb")
    except sqlglot.errors.ParseError:
        return None


def _pk(plan: CheckPlan) -> list[str]:
    pk = plan.contract.primary_key
    return list(pk.columns) if pk else []


def _all_not_null(cols: list[str], alias: str) -> str:
    return " AND ".join(f"{alias}.{c} IS NOT NULL" for c in cols) or "true"


def row_condition(check: Check, a: str, strings: frozenset[str] | None = None) -> str:
    """SQL that is true when a row FAILS ``check`` (NULL values pass every rule but not_null)."""
    cols = [f"{a}.{q(c)}" for c in check.columns]
    p = check.params
    if check.kind == "not_null":
        return " OR ".join(f"{c} IS NULL" for c in cols)
    col = cols[0] if cols else None
    if check.kind == "accepted_values":
        if 0 < len(p["values"]) <= CASE_VALUES and strings is not None and check.columns[0] in strings \
                and all(isinstance(v, str) for v in p["values"]):
            # DuckDB evaluates list_position once per dictionary entry of a dictionary-encoded Parquet
            # column, about as fast as the CASE on plain strings, and a failing value costs no more
            # than a passing one, unlike a cast to an ENUM (benchmarks/contracts/accepted_values_bench.py:
            # clean 0.0044 s against the CASE's 0.0139; dirty plain pages 0.0226 against 0.0215; ADR 0012)
            return f"{col} IS NOT NULL AND list_position([{', '.join(lit(v) for v in p['values'])}], {col}) IS NULL"
        if 0 < len(p["values"]) <= CASE_VALUES:  # a short CASE costs half the hash join NOT IN becomes
            whens = " ".join(f"WHEN {lit(v)} THEN false" for v in p["values"])
            return f"CASE {col} {whens} ELSE {col} IS NOT NULL END"
        return f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(lit(v) for v in p['values'])})"
    if check.kind == "length" and p["min"] is not None and p["min"] == p["max"] and not p["exclusive"]:
        return f"length({col}) <> {lit(p['min'])}"
    if check.kind in ("range", "length"):
        target = col if check.kind == "range" else f"length({col})"
        lo, hi = ("<=", ">=") if p["exclusive"] else ("<", ">")
        parts = ([f"{target} {lo} {lit(p['min'])}"] if p["min"] is not None else []) + \
                ([f"{target} {hi} {lit(p['max'])}"] if p["max"] is not None else [])
        return f"{col} IS NOT NULL AND ({' OR '.join(parts)})"
    if check.kind == "pattern":
        text = col if strings is not None and check.columns[0] in strings else f"CAST({col} AS VARCHAR)"
        shape = glob(p["pattern"])
        if shape is not None:  # a fixed run of ASCII classes: the same verdict at a tenth of the cost
            return f"{col} IS NOT NULL AND NOT ({text} GLOB {lit(shape)})"
        return f"{col} IS NOT NULL AND NOT regexp_full_match({text}, {lit(p['pattern'])})"
    if check.kind == "expression":
        return f"NOT ({p['sql']})"
    raise ValueError(f"no row condition for {check.kind}")  # unique/references are joins


@dataclass
class Verdict:
    """What one pass found: results per check and, per failing row, the mask of rules it broke."""

    rows: int
    results: list[CheckResult]
    failing_rows: np.ndarray            # row ids (positions in the batch)
    failing_masks: list[np.ndarray]     # one array per mask word, aligned with failing_rows
    row_checks: list[Check]

    def broken(self, position: int) -> list[Check]:
        """Row checks broken by the ``position``-th failing row."""
        out = []
        for i, check in enumerate(self.row_checks):
            if int(self.failing_masks[i // BITS][position]) >> (i % BITS) & 1:
                out.append(check)
        return out


def run_compiled(session, compiled: Compiled, now: datetime, batch=None) -> Verdict:
    """Execute the query in ``session`` (views already registered) and read the verdict.

    ``batch``: the relation's rows in memory (row mode), which the failing rows are taken from
    when the plan has an ``any_sql``.
    """
    row = session.query(compiled.sql).to_pylist()[0]
    n = int(row["__hw_n"])
    ids, masks = np.empty(0, np.int64), [np.empty(0, np.int64) for _ in range(compiled.masks)]
    if compiled.rows_sql is not None:
        if compiled.any_sql is not None and batch is not None:
            ids, masks = _failing_rows(_mask_failing(session, compiled, batch, n), compiled)
        else:
            ids, masks = _failing_rows(session.query(compiled.rows_sql), compiled)
        counts = [int(np.count_nonzero(masks[i // BITS] & (1 << (i % BITS)))) for i in range(len(compiled.row_checks))]
    else:
        counts = [int(row[f"__hw_c{i}"] or 0) for i in range(len(compiled.row_checks))]  # NULL: empty batch
    results = []
    for i, check in enumerate(compiled.row_checks):
        failed = counts[i]
        samples = [_strip(s) for s in (row.get(f"__hw_x{i}") or [])]
        results.append(row_result(check, failed, samples))
    fresh = sql = 0
    for check in compiled.dataset_checks:
        p = check.params
        if check.kind == "row_count":
            low = p["min"] is not None and (n <= p["min"] if p["exclusive"] else n < p["min"])
            high = p["max"] is not None and (n >= p["max"] if p["exclusive"] else n > p["max"])
            results.append(CheckResult(check, status_for(check, low or high), int(low or high), observed=n,
                                       message=f"{n} rows; {check.reason}" if low or high else ""))
        elif check.kind == "freshness":
            newest = row[f"__hw_fresh{fresh}"]
            fresh += 1
            stale, observed = _stale(newest, now, p["within"])
            results.append(CheckResult(check, status_for(check, stale), int(stale), observed=observed,
                                       message=f"newest is {observed}; {check.reason}" if stale else ""))
        else:
            count = row[f"__hw_sql{sql}"]
            sql += 1
            try:
                count = int(count or 0)
            except (TypeError, ValueError):
                results.append(CheckResult(check, CheckStatus.ERROR, 0, observed=count,
                                           message="the custom SQL must return a number of failing rows"))
                continue
            results.append(CheckResult(check, status_for(check, count > 0), count, observed=count,
                                       message=check.reason if count else ""))
    return Verdict(n, results, ids, masks, compiled.row_checks)


def row_result(check: Check, failed: int, samples: list[dict] | None = None) -> CheckResult:
    """A row rule's result from its failing-row count (the pass's, or one counted outside it)."""
    return CheckResult(check, status_for(check, failed > 0), failed, samples=list(samples or []),
                       message=check.reason if failed else "")


def _mask_failing(session, compiled: Compiled, batch, n: int):
    """The failing rows' masks: "fails any" per row from the engine, then the masks of those rows only."""
    import pyarrow as pa

    flags = session.query(compiled.any_sql).column(0)
    if len(flags) != n or batch.num_rows != n:
        raise RuntimeError(f"the pass returned {len(flags)} verdicts for {n} rows")  # never: a projection keeps every row
    rows = np.flatnonzero(flags.fill_null(False).to_numpy(zero_copy_only=False))
    if not len(rows):
        return pa.table({ROW_ID: pa.array([], pa.int64())} |
                        {f"__hw_m{m}": pa.array([], pa.int64()) for m in range(compiled.masks)})
    failing = take_rows(batch.select(compiled.columns), rows).append_column(ROW_ID, pa.array(rows, pa.int64()))
    session.register_arrow(FAILING, failing)
    try:
        return session.query(compiled.failing_sql)
    finally:
        session.con.unregister(FAILING)


def take_rows(table, rows: np.ndarray):
    """``table.take(rows)`` for sorted ``rows``, chunk by chunk (a take on the whole table first joins its chunks)."""
    import pyarrow as pa

    parts, at = [], 0
    for chunk in table.to_batches():
        lo, hi = np.searchsorted(rows, [at, at + chunk.num_rows])
        if hi > lo:
            parts.append(chunk.take(pa.array(rows[lo:hi] - at, pa.int64())))
        at += chunk.num_rows
    return pa.Table.from_batches(parts, table.schema)


def _failing_rows(table, compiled: Compiled) -> tuple[np.ndarray, list[np.ndarray]]:
    """Failing row ids (sorted) and their masks, with the rules evaluated outside merged in."""
    ids = table.column(ROW_ID).to_numpy().astype(np.int64, copy=False)
    masks = [table.column(f"__hw_m{m}").to_numpy().astype(np.int64, copy=False) for m in range(compiled.masks)]
    if compiled.external:
        every = sorted_union(ids, *compiled.external.values())
        merged = [np.zeros(len(every), np.int64) for _ in masks]
        at = np.searchsorted(every, ids)
        for m, mask in enumerate(masks):
            merged[m][at] = mask
        for i, rows in compiled.external.items():
            merged[i // BITS][np.searchsorted(every, rows)] |= np.int64(1 << (i % BITS))
        return every, merged
    order = np.argsort(ids, kind="stable")
    return ids[order], [mask[order] for mask in masks]


def _strip(sample: dict) -> dict:
    return {k: v for k, v in sample.items()}


def _stale(newest: Any, now: datetime, within) -> tuple[bool, Any]:
    if newest is None:
        return True, None
    if isinstance(newest, datetime):
        when = newest if newest.tzinfo else newest.replace(tzinfo=now.tzinfo)
    else:  # a date: complete at the end of the day
        from datetime import time, timedelta, timezone
        when = datetime.combine(newest, time(0), tzinfo=timezone.utc) + timedelta(days=1)
    return now - when > within, when.isoformat()
