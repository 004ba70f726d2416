"""Compile a check plan to ONE DuckDB query over a batch: per-rule counts and per-row verdicts.

The query reads the batch once. Row rules become boolean failure flags; each failing row carries
a bit mask of the rules it broke (one BIGINT per 62 rules), and only failing rows leave the
engine (``list(row id)`` and ``list(mask)``), so splitting a batch costs little more than
counting. Uniqueness uses a window over the key; referential integrity a hash join on the
parent's distinct keys; batch-level rules are aggregates (custom SQL rules are scalar subqueries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from headwater.contracts.plan import Check, CheckPlan
from headwater.contracts.results import CheckResult, CheckStatus, status_for

ROW_ID = "__hw_row"
BATCH = "__hw_batch"
BITS = 62


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
    sql: str
    row_checks: list[Check]
    dataset_checks: list[Check]
    masks: int
    references: dict[str, str] = field(default_factory=dict)  # view name -> product


def compile_plan(plan: CheckPlan, *, relation: str = BATCH, row_ids: bool = True, samples: int = 5,
                 existing: str | None = None, masked: frozenset[str] = frozenset(),
                 strings: frozenset[str] | None = None) -> Compiled:
    """The single-pass query. ``row_ids``: the batch has ``__hw_row`` and failing rows are returned.

    ``existing``: a relation holding rows already in the table; keys found there count as
    duplicates too (used when replaying quarantined rows into a table).
    """
    rows, dataset = plan.row_checks, plan.dataset_checks
    windows, joins, flags, ctes = [], [], [], []
    overrides: dict[int, str] = {}
    samples_override: dict[int, str] = {}
    refs: dict[str, str] = {}
    for i, check in enumerate(rows):
        cols = [q(c) for c in check.columns]
        if check.kind == "unique":
            # Duplicated keys come from a hash aggregate over the key columns only; rows are then
            # ranked only among those keys, so the wide row never goes through a window.
            keys = ", ".join(cols)
            nn = " AND ".join(f"{c} IS NOT NULL" for c in cols)
            ctes.append(f"__hw_u{i} AS (SELECT {keys}, count(*) AS __c FROM {relation} WHERE {nn} "
                        f"GROUP BY {keys} HAVING count(*) > 1)")
            overrides[i] = f"(SELECT coalesce(sum(__c - 1), 0) FROM __hw_u{i})"
            if not row_ids:
                samples_override[i] = (f"(SELECT list(struct_pack({', '.join(f'{c} := {c}' for c in cols)}, "
                                       f"occurrences := __c)) FROM (SELECT * FROM __hw_u{i} LIMIT {samples or 1}))")
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
            cond = _row_condition(check, "b", strings)
        flags.append(f"coalesce(({cond}), false) AS __hw_f{i}")
    masks = (len(rows) + BITS - 1) // BITS
    mask_exprs = []
    for m in range(masks):
        bits = [f"(CASE WHEN __hw_f{i} THEN {1 << (i - m * BITS)} ELSE 0 END)"
                for i in range(m * BITS, min(len(rows), (m + 1) * BITS))]
        mask_exprs.append(" + ".join(bits) + f" AS __hw_m{m}")
    inner_cols = [f"b.{q(ROW_ID)}"] if row_ids else []
    fresh = [c for c in dataset if c.kind == "freshness"]
    inner_cols += [f"b.{q(c.columns[0])} AS __hw_d{k}" for k, c in enumerate(fresh)]
    sample_cols = sorted({c for check in rows for c in check.columns} | set(_pk(plan))) if samples else []
    inner_cols += [f"b.{q(c)} AS {q('__hw_s_' + c)}" for c in sample_cols]
    inner_cols += flags
    # Only the columns the rules read travel through the window and joins (not the whole row).
    needed = _needed(plan, row_ids)
    cols_sql = "*" if needed is None else ", ".join(q(c) for c in needed) or "1 AS __hw_one"
    source = f"(SELECT {cols_sql}{', ' if windows else ''}{', '.join(windows)} FROM {relation}) b"
    inner = f"SELECT {', '.join(inner_cols) or '1 AS __hw_one'} FROM {source} {' '.join(joins)}"
    if not row_ids:
        mask_exprs = []
    mid = f"SELECT *{', ' if mask_exprs else ''}{', '.join(mask_exprs)} FROM ({inner}) v"
    aggs = ["count(*) AS __hw_n"]
    aggs += [f"{overrides[i]} AS __hw_c{i}" if i in overrides else f"count_if(__hw_f{i}) AS __hw_c{i}"
             for i in range(len(rows))]
    lazy = samples and not row_ids
    if samples:
        for i, check in enumerate(rows):
            if lazy and check.kind in _LAZY:
                continue  # sampled afterwards, only for rules that failed (sample_sql)
            if i in samples_override:
                aggs.append(f"{samples_override[i]} AS __hw_x{i}")
                continue
            cols = list(dict.fromkeys(list(_pk(plan)) + list(check.columns)))
            pack = ", ".join(f"{q(c)} := " + ("'***'" if c in masked else q('__hw_s_' + c)) for c in cols)
            key = q(ROW_ID) if row_ids else "1"
            aggs.append(f"min_by(struct_pack({pack}), {key}, {samples}) FILTER (WHERE __hw_f{i}) AS __hw_x{i}")
    if row_ids and masks and mask_exprs:
        any_fail = " OR ".join(f"__hw_m{m} <> 0" for m in range(masks))
        aggs.append(f"list({q(ROW_ID)}) FILTER (WHERE {any_fail}) AS __hw_rows")
        aggs += [f"list(__hw_m{m}) FILTER (WHERE {any_fail}) AS __hw_masks{m}" for m in range(masks)]
    for k, _ in enumerate(fresh):
        aggs.append(f"max(__hw_d{k}) AS __hw_fresh{k}")
    for k, c in enumerate(c for c in dataset if c.kind == "sql"):
        aggs.append(f"({c.params['sql'].strip().rstrip(';')}) AS __hw_sql{k}")
    with_ = f"WITH {', '.join(ctes)} " if ctes else ""
    sql = f"{with_}SELECT {', '.join(aggs)} FROM ({mid}) w"
    return Compiled(sql, rows, dataset, masks, refs)


_LAZY = ("not_null", "accepted_values", "range", "length", "pattern", "expression")


def sample_sql(plan: CheckPlan, check: Check, relation: str, k: int, masked: frozenset[str],
               strings: frozenset[str] | None) -> str | None:
    """A query for up to ``k`` rows failing ``check`` (stops at k rows; used after the counting pass)."""
    if check.kind not in _LAZY:
        return None
    cols = list(dict.fromkeys(list(_pk(plan)) + list(check.columns)))
    pick = ", ".join(("'***'" if c in masked else f"b.{q(c)}") + f" AS {q(c)}" for c in cols) or "1 AS __hw_one"
    return f"SELECT {pick} FROM {relation} b WHERE coalesce(({_row_condition(check, 'b', strings)}), false) LIMIT {k}"


def _needed(plan: CheckPlan, row_ids: bool) -> list[str] | None:
    """Columns the row rules read (None: an expression could not be parsed, so read all)."""
    import sqlglot
    from sqlglot import exp

    cols: dict[str, None] = {ROW_ID: None} if row_ids else {}
    for c in list(_pk(plan)) + [c for check in plan.checks if check.kind != "sql" for c in check.columns]:
        cols.setdefault(c, None)
    for check in plan.checks:
        if check.kind == "expression":
            try:
                tree = sqlglot.parse_one(check.params["sql"], read="duckdb")
            except sqlglot.errors.ParseError:
                return None
            for column in tree.find_all(exp.Column):
                cols.setdefault(column.name, None)
    return list(cols)


def _pk(plan: CheckPlan) -> list[str]:
    pk = plan.contract.primary_key
    return list(pk.columns) if pk else []


def _all_not_null(cols: list[str], alias: str) -> str:
    return " AND ".join(f"{alias}.{c} IS NOT NULL" for c in cols) or "true"


def _row_condition(check: Check, a: str, strings: frozenset[str] | None = None) -> str:
    """SQL that is true when a row FAILS ``check`` (NULL values pass every rule but not_null)."""
    cols = [f"{a}.{q(c)}" for c in check.columns]
    p = check.params
    if check.kind == "not_null":
        return " OR ".join(f"{c} IS NULL" for c in cols)
    col = cols[0] if cols else None
    if check.kind == "accepted_values":
        return f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(lit(v) for v in p['values'])})"
    if check.kind in ("range", "length"):
        target = col if check.kind == "range" else f"length({col})"
        lo, hi = ("<=", ">=") if p["exclusive"] else ("<", ">")
        parts = ([f"{target} {lo} {lit(p['min'])}"] if p["min"] is not None else []) + \
                ([f"{target} {hi} {lit(p['max'])}"] if p["max"] is not None else [])
        return f"{col} IS NOT NULL AND ({' OR '.join(parts)})"
    if check.kind == "pattern":
        text = col if strings is not None and check.columns[0] in strings else f"CAST({col} AS VARCHAR)"
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


def run_compiled(session, compiled: Compiled, now: datetime) -> Verdict:
    """Execute the query in ``session`` (views already registered) and read the verdict."""
    row = session.query(compiled.sql).to_pylist()[0]
    n = int(row["__hw_n"])
    results = []
    for i, check in enumerate(compiled.row_checks):
        failed = int(row[f"__hw_c{i}"] or 0)  # SUM over an empty batch is NULL: nothing failed
        samples = [_strip(s) for s in (row.get(f"__hw_x{i}") or [])]
        results.append(CheckResult(check, status_for(check, failed > 0), failed, samples=samples,
                                   message=check.reason if failed else ""))
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
    ids = np.asarray(row.get("__hw_rows") or [], dtype=np.int64)
    masks = [np.asarray(row.get(f"__hw_masks{m}") or [], dtype=np.int64) for m in range(compiled.masks)]
    return Verdict(n, results, ids, masks, compiled.row_checks)


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
