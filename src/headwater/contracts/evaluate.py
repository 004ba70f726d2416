"""Run a check plan on a batch or a table: schema checks on the Arrow schema, then one query."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from headwater.contracts.duckdb_compiler import (
    BATCH,
    BITS,
    ROW_ID,
    Verdict,
    compile_plan,
    expression_columns,
    lit,
    q,
    row_condition,
    row_result,
    run_compiled,
    sample_sql,
)
from headwater.contracts.footers import footer_nulls
from headwater.contracts.keys import KeyCount, KeyRange, duplicate_rows
from headwater.contracts.model import Severity
from headwater.contracts.patterns import failing_positions, pattern_failures, scannable
from headwater.contracts.plan import Check, CheckPlan
from headwater.contracts.results import CheckResult, CheckRun, CheckStatus, status_for
from headwater.contracts.types import matches, parse_type, type_name
from headwater.errors import NotFoundError

if TYPE_CHECKING:
    from headwater.storage.lakehouse import Lakehouse


def schema_results(plan: CheckPlan, schema: pa.Schema) -> list[CheckResult]:
    """Declared columns present with a matching type (block); extra columns per the contract."""
    have = {f.name: f.type for f in schema if f.name != ROW_ID}
    out = []
    for column in plan.contract.columns:
        check = Check(f"{column.name}.schema", "schema", Severity.BLOCK, (column.name,),
                      reason=f"{column.name} must be {column.type}")
        if column.name not in have:
            out.append(CheckResult(check, CheckStatus.FAILED, message=f"column {column.name!r} is missing"))
        elif not matches(parse_type(column.type), have[column.name]):
            actual = type_name(have[column.name])
            out.append(CheckResult(check, CheckStatus.FAILED, observed=actual,
                                   message=f"column {column.name!r} is {actual}, the contract says {column.type}"))
        else:
            out.append(CheckResult(check, CheckStatus.PASSED))
    extra_sev = plan.contract.extra_columns
    if extra_sev is not None and plan.contract.columns:
        declared = {c.name for c in plan.contract.columns}
        extra = sorted(n for n in have if n not in declared)
        sev = Severity.WARN if extra_sev is Severity.QUARANTINE else extra_sev
        check = Check("schema.extra_columns", "schema", sev, tuple(extra),
                      reason="columns not in the contract")
        out.append(CheckResult(check, status_for(check, bool(extra)), observed=extra,
                               message=f"not in the contract: {', '.join(extra)}" if extra else ""))
    return out


def evaluate(session, plan: CheckPlan, relation_schema: pa.Schema, *, lakehouse: Lakehouse,
             now: datetime, rows: int | None = None, row_ids: bool = True, samples: int = 5,
             existing: str | None = None, relation: str = BATCH,
             project=None, batch: pa.Table | None = None,
             files: Sequence[str] | None = None) -> tuple[CheckRun, Verdict | None]:
    """Every check of ``plan`` over ``relation`` (already registered in ``session``).

    ``batch``: the relation's rows in memory (the gate's batch, without ``__hw_row``); lets
    unique rules on an integer key find their duplicate rows in numpy (keys.py) and pattern
    rules on string columns run in Arrow (patterns.py).

    ``files``: count mode, the Parquet files ``relation`` reads as they are (no delete files, no
    filter); not-null rules are then counted from their footers (footers.py).
    """
    schema = schema_results(plan, relation_schema)
    missing = {r.check.columns[0] for r in schema if r.check.id.endswith(".schema")
               and r.status is CheckStatus.FAILED and r.observed is None}
    results = list(schema)
    runnable, skipped = [], []
    for check in plan.checks:
        if check.kind == "references":
            target, view = check.params["product"], f"__hw_ref_{check.params['product']}"
            sources = project.sources if project is not None else {}
            try:
                if target in sources:  # a raw source's key set: always there, even before any run
                    session.register_source(view, sources[target], project.root)
                else:
                    session.register_plan(view, lakehouse.plan(target))
            except NotFoundError:
                skipped.append(CheckResult(check, CheckStatus.ERROR,
                                           message=f"{target!r} has no table to check against"))
                continue
        if set(check.columns) & missing:  # the schema check already fails (and blocks) on it
            skipped.append(CheckResult(check, CheckStatus.SKIPPED, message="a column it needs is missing"))
            continue
        if check.kind == "references" and (not check.columns or set(check.params["key"]) - set(_names(session, check))):
            # cannot be evaluated: an error, which blocks unless the rule only warns
            absent = sorted(set(check.params["key"]) - set(_names(session, check)))
            skipped.append(CheckResult(check, CheckStatus.ERROR, message=(
                "the rule names no column to look up (give 'columns:' and 'key:')" if not check.columns
                else f"{check.params['product']!r} has no column {', '.join(absent)}")))
            continue
        runnable.append(check)
    sub = replace(plan, checks=tuple(runnable))
    session.con.execute(f"CREATE OR REPLACE TEMP VIEW batch AS SELECT * FROM {relation}")
    masked = frozenset(c.name for c in plan.contract.columns if c.pii)
    strings = frozenset(f.name for f in relation_schema
                        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                        or pa.types.is_string_view(f.type))
    counted: dict[str, int] = {}
    found: dict[str, list[dict]] = {}
    if row_ids and batch is not None:  # duplicate keys (numpy, one core) found while patterns use every core
        with ThreadPoolExecutor(max_workers=1) as pool:
            keys = pool.submit(_integer_keys, session, sub, relation_schema, relation, row_ids, existing, batch)
            patterns = pattern_failures(sub, batch)
            ranges, external = keys.result()
        external.update(patterns)
    else:
        ranges, external = _integer_keys(session, sub, relation_schema, relation, row_ids, existing, batch)
        if not row_ids:  # the scan's rules are counted after the pass: 0 stands in for them until then
            counted = dict.fromkeys((c.id for c in _scan_rules(sub, relation_schema, ranges)[0]), 0)
            if files is not None:
                counted.update(footer_nulls(session, sub, relation_schema, files, skip=frozenset(counted)))
    compiled = compile_plan(sub, relation=relation, row_ids=row_ids, samples=samples, existing=existing,
                            masked=masked, strings=strings, external=external, counted=counted)
    verdict = run_compiled(session, compiled, now, batch if row_ids else None)
    sampled = False
    if not row_ids:
        def counted_outside(known: dict[str, int]) -> None:
            for i, result in enumerate(verdict.results):
                if result.check.id in known:
                    verdict.results[i] = row_result(result.check, known[result.check.id], result.samples)

        def after_read(known: dict[str, int]) -> None:  # the engine is free while the last batches are searched
            nonlocal sampled
            counted_outside(known)  # not-null counts are final: the prefix query samples those rules too
            if samples:
                _prefix_samples(session, sub, verdict, relation, samples, masked, strings)
            sampled = True

        scanned, found = _scan_outside(session, sub, relation_schema, relation, samples, masked, batch, ranges,
                                       after_read)
        counted_outside(scanned)
        for result in verdict.results:
            if found.get(result.check.id):
                result.samples = found[result.check.id]
    if samples:  # samples of failing rules only, taken after the pass
        _samples(session, sub, verdict, relation, samples, masked, strings, row_ids, ranges, prefix=not sampled)
    order = {c.id: i for i, c in enumerate(plan.checks)}
    body = sorted(verdict.results + skipped, key=lambda r: order[r.check.id])
    run = CheckRun(plan.product, plan.version, verdict.rows if rows is None else rows, results + body)
    return run, verdict


READ_ROWS = 1 << 18  # e-mails: ~6 MB a batch, under glibc's 32 MB mmap threshold, so its heap reuses them (ADR 0011)


def _scan_rules(plan: CheckPlan, schema: pa.Schema, ranges: dict[str, KeyRange]):
    """What ``_scan_outside`` counts: (every rule it counts, pattern rules, unique rules, not-null rules, columns read)."""
    checks = [c for c in plan.row_checks if scannable(c, schema)]
    keyed = [c for c in plan.row_checks if c.id in ranges]
    columns = list(dict.fromkeys([c.columns[0] for c in checks] + [c.columns[0] for c in keyed]))
    nulls = [c for c in plan.row_checks if c.kind == "not_null" and set(c.columns) <= set(columns)
             and len(c.columns) == 1]  # read here anyway: Arrow counts the nulls
    return checks + keyed + nulls, checks, keyed, nulls, columns


def _scan_outside(session, plan: CheckPlan, schema: pa.Schema, relation: str, k: int, masked: frozenset[str],
                  batch: pa.Table | None, ranges: dict[str, KeyRange],
                  after_read=None) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """Count mode: the rules counted outside the pass, from one read of the columns they need.

    Pattern rules on string columns (patterns.py) and unique rules on one integer column of
    narrow range (``ranges``, keys.py: a byte per possible key). The columns come from ``batch``
    when the rows are in memory, else from one streamed read of the relation: each batch's keys
    are marked as it arrives and its patterns searched on every core while the next is read.
    ``after_read`` is called once the read is done, while the last batches are still searched
    (the engine is free then: evaluate takes the pass's samples), with the counts already final
    (not-null and unique rules).
    Returns failure counts and up to ``k`` samples per rule: for patterns, the first failing
    rows with their primary key when the read holds every key column (as it does an integer key
    whose unique rule is counted here), else
    the first failing values looked up with the key afterwards (a value's verdict does not depend
    on its row); for keys, repeated values with their occurrences (left to ``_samples`` when they
    cannot be named).
    """
    every, checks, keyed, nulls, columns = _scan_rules(plan, schema, ranges)
    if not every:
        if after_read is not None:
            after_read({})
        return {}, {}
    counts = {c.id: 0 for c in checks + nulls}
    values: dict[str, list] = {c.id: [] for c in checks}
    counters = {c.id: KeyCount(ranges[c.id], k) for c in keyed}
    pk = _pk(plan)
    inline = bool(pk) and set(pk) <= set(columns)  # failing rows are named from the read itself

    def search(part, valid_utf8: bool) -> list[tuple[int, list]]:
        out = []
        for check in checks:
            bad = failing_positions(part.column(check.columns[0]), check.params["pattern"], valid_utf8=valid_utf8)
            taken = []
            if k and len(bad):
                first = pa.array(bad[:k])
                taken = (part.select(list(dict.fromkeys(pk + [check.columns[0]]))).take(first).to_pylist() if inline
                         else part.column(check.columns[0]).take(first).to_pylist())
            out.append((len(bad), taken))
        return out

    def mark(part) -> None:
        for check in keyed:
            counters[check.id].add(part.column(check.columns[0]))
        for check in nulls:
            counts[check.id] += part.column(check.columns[0]).null_count

    found: dict[str, list[dict]] = {}

    def repeated_keys() -> None:
        for check in keyed:
            counts[check.id] = counters[check.id].extra()
            repeated = counters[check.id].samples()
            column = check.columns[0]
            if repeated:
                found[check.id] = [{column: "***" if column in masked else v, "occurrences": n} for v, n in repeated]

    if batch is not None:
        mark(batch)
        parts = [search(batch.select(columns), False)] if checks else []
        repeated_keys()
        if after_read is not None:
            after_read({c.id: counts[c.id] for c in keyed + nulls})
    else:
        reader = session.con.sql(f"SELECT {', '.join(q(c) for c in columns)} FROM {relation}").to_arrow_reader(READ_ROWS)
        workers = os.cpu_count() or 1
        parts, pending = [], deque()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for b in reader:  # searched while the next batch is read, at most 2 per core held in memory
                if checks:
                    pending.append(pool.submit(search, b, True))  # DuckDB's VARCHARs are valid UTF-8
                mark(b)
                if len(pending) >= 2 * workers:
                    parts.append(pending.popleft().result())
            del reader
            repeated_keys()  # on this thread while the pool searches the last batches
            if after_read is not None:
                after_read({c.id: counts[c.id] for c in keyed + nulls})
            parts += [f.result() for f in pending]
    for part in parts:
        for check, (failed, taken) in zip(checks, part):
            counts[check.id] += failed
            if inline:
                rows = found.setdefault(check.id, []) if taken else []
                rows += [{c: "***" if c in masked else v for c, v in row.items()} for row in taken[:k - len(rows)]]
            else:
                values[check.id] += [v for v in dict.fromkeys(taken) if v not in values[check.id]]
    for check in checks:
        if not values[check.id]:
            continue
        column = check.columns[0]
        if not _pk(plan):  # the values are the samples
            found[check.id] = [{column: "***" if column in masked else v} for v in values[check.id][:k]]
            continue
        cols = list(dict.fromkeys(_pk(plan) + [column]))
        pick = ", ".join(("'***'" if c in masked else q(c)) + f" AS {q(c)}" for c in cols)
        wanted = ", ".join(lit(v) for v in values[check.id][:k])
        found[check.id] = session.query(f"SELECT {pick} FROM {relation} WHERE {q(column)} IN ({wanted}) "
                                        f"LIMIT {k}").to_pylist()
    return counts, found


def _integer_keys(session, plan: CheckPlan, schema: pa.Schema, relation: str, row_ids: bool,
                  existing: str | None, batch: pa.Table | None) -> tuple[dict[str, KeyRange], dict[str, np.ndarray]]:
    """Unique rules on one integer column: their key range if narrow (count mode) or duplicate rows (row mode)."""
    ranges: dict[str, KeyRange] = {}
    external: dict[str, np.ndarray] = {}
    if existing is not None:
        return ranges, external
    for check in plan.row_checks:
        if check.kind != "unique" or len(check.columns) != 1 or check.columns[0] not in schema.names \
                or not pa.types.is_integer(schema.field(check.columns[0]).type):
            continue
        column = check.columns[0]
        if row_ids:
            if batch is not None:
                rows = duplicate_rows(batch.column(column))
                if rows is not None:
                    external[check.id] = rows
            continue
        # min/max/count come from Parquet statistics when the relation is a file scan
        lo, hi, n = session.query(f"SELECT min({q(column)}) AS lo, max({q(column)}) AS hi, count(*) AS n "
                                  f"FROM {relation}").to_pylist()[0].values()
        keys = KeyRange(lo, hi)
        if keys.narrow(n):
            ranges[check.id] = keys
    return ranges, external


def _samples(session, plan: CheckPlan, verdict: Verdict, relation: str, k: int, masked: frozenset[str],
             strings: frozenset[str], row_ids: bool, ranges: dict[str, KeyRange], prefix: bool = True) -> None:
    """Up to ``k`` failing rows per failing rule (each query stops early or reads one column).

    ``prefix``: count mode, take them from the relation's first rows first (False: already done)."""
    if prefix and not row_ids:
        _prefix_samples(session, plan, verdict, relation, k, masked, strings)
    for i, result in enumerate(verdict.results):
        check = result.check
        if not result.failed_rows or result.samples:
            continue
        cols = list(dict.fromkeys(_pk(plan) + list(check.columns) + expression_columns(check)))
        if row_ids:  # the failing rows are known: read those
            hit = (verdict.failing_masks[i // BITS] >> (i % BITS)) & 1 == 1
            picked = ", ".join(str(int(r)) for r in verdict.failing_rows[hit][:k])
            pick = ", ".join(("'***'" if c in masked else q(c)) + f" AS {q(c)}" for c in cols) or "1 AS __hw_one"
            result.samples = session.query(f"SELECT {pick} FROM {relation} WHERE {q(ROW_ID)} IN ({picked}) "
                                           f"ORDER BY {q(ROW_ID)}").to_pylist()
        elif check.id in ranges:  # duplicated keys, found with a count per key value
            column = check.columns[0]
            values = session.query(f"SELECT {q(column)} FROM {relation} WHERE {q(column)} IS NOT NULL").column(0)
            keys = ranges[check.id]
            counts = np.bincount(values.to_numpy().astype(np.int64) - keys.lo, minlength=keys.span)
            dup = np.flatnonzero(counts > 1)[:k]
            result.samples = [{column: "***" if column in masked else int(v) + keys.lo, "occurrences": int(counts[v])}
                              for v in dup]
        else:
            query = sample_sql(plan, check, relation, k, masked, strings)
            if query is not None:
                result.samples = session.query(query).to_pylist()


PREFIX_ROWS = 1 << 16


def _prefix_samples(session, plan: CheckPlan, verdict: Verdict, relation: str, k: int,
                    masked: frozenset[str], strings: frozenset[str]) -> None:
    """Samples of every failing row rule from the relation's first rows, in one query.

    Failing rows are rarely all at the end: one read of ``PREFIX_ROWS`` rows usually holds ``k`` of
    each, where a query per rule would start a scan per rule. A rule with fewer there is sampled
    on its own afterwards (sample_sql, which reads until it has ``k``).
    """
    wanted = [r for r in verdict.results if r.failed_rows and not r.samples
              and sample_sql(plan, r.check, relation, k, masked, strings) is not None]
    if len(wanted) < 2:
        return
    cols_of = {r.check.id: list(dict.fromkeys(_pk(plan) + list(r.check.columns) + expression_columns(r.check)))
               for r in wanted}
    every = list(dict.fromkeys(c for cols in cols_of.values() for c in cols))
    picks = [("'***'" if c in masked else f"b.{q(c)}") + f" AS {q('__hw_v_' + c)}" for c in every]
    flags = [f"coalesce(({row_condition(r.check, 'b', strings)}), false) AS __hw_p{n}" for n, r in enumerate(wanted)]
    table = session.query(f"SELECT {', '.join(picks + flags)} FROM (SELECT * FROM {relation} LIMIT {PREFIX_ROWS}) b "
                          f"WHERE {' OR '.join(f'__hw_p{n}' for n in range(len(wanted)))}")
    for n, result in enumerate(wanted):
        hit = np.flatnonzero(table.column(f"__hw_p{n}").to_numpy(zero_copy_only=False))[:k]
        if len(hit) < min(k, result.failed_rows):
            continue  # too few in the prefix: sampled on its own
        cols = cols_of[result.check.id]
        rows = table.select([f"__hw_v_{c}" for c in cols]).take(pa.array(hit)).to_pylist()
        result.samples = [{c: row[f"__hw_v_{c}"] for c in cols} or {"__hw_one": 1} for row in rows]


def _pk(plan: CheckPlan) -> list[str]:
    pk = plan.contract.primary_key
    return list(pk.columns) if pk else []


def _names(session, check: Check) -> list[str]:
    view = f"__hw_ref_{check.params['product']}"
    return [r[0] for r in session.con.execute(f"DESCRIBE {q(view)}").fetchall()]


def with_row_ids(batch: pa.Table) -> pa.Table:
    return batch.append_column(ROW_ID, pa.array(np.arange(batch.num_rows, dtype=np.int64)))
