"""Accepted values over Parquet compile to a cast to an ENUM: the same verdicts as the CASE, row by row."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from headwater.contracts import evaluate as ev
from headwater.contracts.duckdb_compiler import row_condition
from headwater.contracts.model import Contract
from headwater.contracts.plan import Check, build_plan
from headwater.engines.duckdb import DuckDBSession

# near misses of every kind: case, spaces, a prefix, quotes, an empty string, non-ASCII, NULL
VALUES = ["paid", "Paid", "paid ", " paid", "pai", "it's", "it''s", "", "über", "uber", None, "shipped", "ü"]
ACCEPTED = ["paid", "shipped", "it's", "", "über", "paid"]  # a repeated value: an ENUM refuses duplicates


def _plan(values: list):
    return build_plan(Contract.model_validate({
        "product": "p", "version": "1.0.0",
        "columns": [{"name": "id", "type": "long"},
                    {"name": "s", "type": "string", "checks": [{"accepted_values": values, "id": "s.ok"}]}]}))


def _write(tmp_path, dictionary: bool) -> str:
    table = pa.table({"id": pa.array(range(len(VALUES) * 50), pa.int64()),
                      "s": pa.array(VALUES * 50, pa.string())})
    path = str(tmp_path / f"t_{dictionary}.parquet")
    pq.write_table(table, path, use_dictionary=dictionary, row_group_size=100)
    return path


def _check(path: str, values: list, parquet: bool) -> tuple[int, str]:
    plan = _plan(values)
    session = DuckDBSession()
    sqls = []
    real = ev.run_compiled
    try:
        session.con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}')")
        schema = session.query("SELECT * FROM t LIMIT 0").schema
        ev.run_compiled = lambda s, compiled, *a: sqls.append(compiled.sql) or real(s, compiled, *a)
        run, _ = ev.evaluate(session, plan, schema, lakehouse=None, now=datetime.now(timezone.utc), row_ids=False,
                             samples=3, relation="t", files=[path], parquet=parquet)
    finally:
        ev.run_compiled = real
        session.close()
    result = next(r for r in run.results if r.check.id == "s.ok")
    assert all(s["s"] not in values and s["s"] is not None for s in result.samples)
    return result.failed_rows, sqls[0]


@pytest.mark.parametrize("dictionary", [True, False])
def test_enum_cast_over_parquet_fails_the_rows_the_case_fails(tmp_path, dictionary):
    path = _write(tmp_path, dictionary)
    expected = sum(v is not None and v not in ACCEPTED for v in VALUES) * 50
    enum_count, enum_sql = _check(path, ACCEPTED, parquet=True)
    case_count, case_sql = _check(path, ACCEPTED, parquet=False)
    assert enum_count == case_count == expected
    assert "ENUM(" in enum_sql and "ENUM(" not in case_sql


def test_row_by_row_the_enum_and_the_case_agree():
    session = DuckDBSession()
    try:
        session.register_arrow("b0", pa.table({"s": pa.array(VALUES, pa.string())}))
        check = _plan(ACCEPTED).row_checks[0]
        strings = frozenset({"s"})
        got = {mode: session.query(f"SELECT coalesce(({row_condition(check, 'b', strings, parquet=mode)}), false) "
                                   f"AS f FROM b0 b").column(0).to_pylist() for mode in (True, False)}
    finally:
        session.close()
    assert got[True] == got[False] == [v is not None and v not in ACCEPTED for v in VALUES]


def test_values_that_are_not_all_strings_keep_the_case():
    check = _plan(["a", "b"]).row_checks[0]
    mixed = Check(check.id, check.kind, check.severity, check.columns, params={**check.params, "values": ["a", 1]})
    assert "ENUM" not in row_condition(mixed, "b", frozenset({"s"}), parquet=True)
    numbers = build_plan(Contract.model_validate({
        "product": "p", "version": "1.0.0",
        "columns": [{"name": "n", "type": "long", "checks": [{"accepted_values": [1, 2]}]}]})).row_checks[0]
    assert "ENUM" not in row_condition(numbers, "b", frozenset(), parquet=True)  # not a string column
