"""Accepted values on a string column compile to list_position: the CASE's verdicts, row by row."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from headwater.contracts import evaluate as ev
from headwater.contracts.duckdb_compiler import CASE_VALUES, row_condition
from headwater.contracts.model import Contract
from headwater.contracts.plan import Check, build_plan
from headwater.engines.duckdb import DuckDBSession

# near misses of every kind: case, spaces, a prefix, quotes, an empty string, NFC against NFD, NUL
VALUES = ["paid", "Paid", "paid ", " paid", "pai", "it's", "it''s", "", "über", "u\u0308ber", "uber", None,
          "shipped", "ü", "a\x00b", "a"]
ACCEPTED = ["paid", "shipped", "it's", "", "über", "a\x00b", "paid"]  # a value listed twice


def _plan(values: list):
    return build_plan(Contract.model_validate({
        "product": "p", "version": "1.0.0",
        "columns": [{"name": "id", "type": "long"},
                    {"name": "s", "type": "string", "checks": [{"accepted_values": values, "id": "s.ok"}]}]}))


def _case(check: Check) -> str:
    """The CASE the rule compiled to before: the reference for the verdicts."""
    col = 'b."s"'
    whens = " ".join("WHEN '" + v.replace("'", "''") + "' THEN false" for v in check.params["values"])
    return f"CASE {col} {whens} ELSE {col} IS NOT NULL END"


def test_list_position_and_the_case_agree_row_by_row():
    check = _plan(ACCEPTED).row_checks[0]
    condition = row_condition(check, "b", frozenset({"s"}))
    assert "list_position" in condition
    session = DuckDBSession()
    try:
        session.register_arrow("b0", pa.table({"s": pa.array(VALUES, pa.string())}))
        got = [session.query(f"SELECT coalesce(({sql}), false) AS f FROM b0 b").column(0).to_pylist()
               for sql in (condition, _case(check))]
    finally:
        session.close()
    assert got[0] == got[1] == [v is not None and v not in ACCEPTED for v in VALUES]


@pytest.mark.parametrize("dictionary", [True, False])
def test_contract_check_over_parquet_with_and_without_dictionary_pages(tmp_path, dictionary):
    path = str(tmp_path / "t.parquet")
    pq.write_table(pa.table({"id": pa.array(range(len(VALUES) * 50), pa.int64()), "s": pa.array(VALUES * 50, pa.string())}),
                   path, use_dictionary=dictionary, row_group_size=100)
    session = DuckDBSession()
    try:
        session.con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}')")
        schema = session.query("SELECT * FROM t LIMIT 0").schema
        run, _ = ev.evaluate(session, _plan(ACCEPTED), schema, lakehouse=None, now=datetime.now(timezone.utc),
                             row_ids=False, samples=3, relation="t", files=[path])
    finally:
        session.close()
    result = next(r for r in run.results if r.check.id == "s.ok")
    assert result.failed_rows == sum(v is not None and v not in ACCEPTED for v in VALUES) * 50
    assert len(result.samples) == 3 and all(s["s"] not in ACCEPTED for s in result.samples)


def test_other_values_and_long_lists_keep_the_case_or_the_hash_join():
    check = _plan(["a", "b"]).row_checks[0]
    mixed = Check(check.id, check.kind, check.severity, check.columns, params={**check.params, "values": ["a", 1]})
    assert row_condition(mixed, "b", frozenset({"s"})).startswith("CASE")
    assert row_condition(check, "b", None).startswith("CASE")  # the column's type is not known
    long = _plan([f"v{i}" for i in range(CASE_VALUES + 1)]).row_checks[0]
    assert "NOT IN" in row_condition(long, "b", frozenset({"s"}))
    numbers = build_plan(Contract.model_validate({
        "product": "p", "version": "1.0.0",
        "columns": [{"name": "n", "type": "long", "checks": [{"accepted_values": [1, 2]}]}]})).row_checks[0]
    assert row_condition(numbers, "b", frozenset()).startswith("CASE")
