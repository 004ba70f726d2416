"""Not-null rules counted from Parquet footers (footers.py) give the pass's count without its read."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ruamel.yaml import YAML

from headwater.contracts import evaluate as ev
from headwater.contracts.footers import footer_nulls
from headwater.contracts.model import Contract
from headwater.contracts.plan import build_plan
from headwater.engines.duckdb import DuckDBSession

CONTRACT = """
product: p
version: 1.0.0
columns:
  - {name: id, type: long, nullable: false}
  - {name: c, type: long, nullable: false}
  - {name: s, type: 'struct<x: long>', nullable: false}
  - {name: amount, type: double, checks: [{range: {min: 0}}]}
"""


def _files(tmp_path, statistics: bool = True) -> list[str]:
    """Two files: the newer holds ``c`` with 3 nulls over 3 row groups, the older lacks ``c``."""
    new = pa.table({"id": pa.array(range(10), pa.int64()),
                    "c": pa.array([1, None, 3, 4, None, 6, 7, 8, None, 10], pa.int64()),
                    "s": pa.array([{"x": 1}, None] * 5, pa.struct([("x", pa.int64())])),
                    "amount": pa.array([1.0, -1.0] * 5)})
    old = pa.table({"id": pa.array(range(10, 14), pa.int64()), "s": pa.array([{"x": 1}] * 4, new.schema.field("s").type),
                    "amount": pa.array([2.0] * 4)})
    paths = [str(tmp_path / "new.parquet"), str(tmp_path / "old.parquet")]
    pq.write_table(new, paths[0], row_group_size=4, write_statistics=statistics)
    pq.write_table(old, paths[1], write_statistics=statistics)
    return paths


def _check(tmp_path, files: list[str] | None, statistics: bool = True, sql: list | None = None) -> dict:
    paths = _files(tmp_path, statistics)
    plan = build_plan(Contract.model_validate(YAML(typ="safe").load(CONTRACT)))
    session = DuckDBSession()
    session.con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({paths!r}, union_by_name = true)")
    schema = session.query("SELECT * FROM t LIMIT 0").schema
    try:
        run, _ = ev.evaluate(session, plan, schema, lakehouse=None, now=datetime.now(timezone.utc), row_ids=False,
                             samples=2, relation="t", files=paths if files is None else files)
    finally:
        session.close()
    return {r.check.id: r for r in run.results}


def test_not_null_counts_from_footers_equal_the_pass_and_skip_the_columns_read(tmp_path, monkeypatch):
    passes = []
    real = ev.run_compiled
    monkeypatch.setattr(ev, "run_compiled", lambda s, compiled, *a: passes.append(compiled.sql) or real(s, compiled, *a))
    from_footers = _check(tmp_path, None)
    assert '"c"' not in passes[-1]  # the pass did not read c for its not-null rule
    from_pass = _check(tmp_path, [])  # no files given: the pass counts
    assert '"c"' in passes[-1]
    for result in (from_footers, from_pass):
        assert result["c.not_null"].failed_rows == 3 + 4  # 3 nulls, and the 4 rows of the file without c
        assert result["id.not_null"].failed_rows == 0
        assert result["s.not_null"].failed_rows == 5
        assert result["amount.range"].failed_rows == 5
    assert from_footers["c.not_null"].samples == from_pass["c.not_null"].samples != []


def test_files_without_null_statistics_leave_the_rule_to_the_pass(tmp_path):
    by_id = _check(tmp_path, None, statistics=False)
    assert by_id["c.not_null"].failed_rows == 7
    session = DuckDBSession()
    plan = build_plan(Contract.model_validate(YAML(typ="safe").load(CONTRACT)))
    schema = pa.schema([("id", pa.int64()), ("c", pa.int64()), ("s", pa.struct([("x", pa.int64())]))])
    try:
        assert footer_nulls(session, plan, schema, _files(tmp_path, statistics=False)) == {}
        counted = footer_nulls(session, plan, schema, _files(tmp_path))
    finally:
        session.close()
    assert counted == {"id.not_null": 0, "c.not_null": 7}  # the struct is never answered from footers


def test_a_file_spelling_the_column_in_another_case_leaves_the_rule_to_the_pass(tmp_path):
    paths = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    pq.write_table(pa.table({"id": [1, 2], "c": pa.array([1, None], pa.int64())}), paths[0])
    pq.write_table(pa.table({"id": [3, 4], "C": pa.array([3, 4], pa.int64())}), paths[1])
    session = DuckDBSession()
    plan = build_plan(Contract.model_validate(YAML(typ="safe").load(CONTRACT)))
    try:
        assert footer_nulls(session, plan, pa.schema([("id", pa.int64()), ("c", pa.int64())]), paths) \
            == {"id.not_null": 0}  # not c: 2 nulls by footers, where DuckDB reads 1
        session.con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({paths!r}, union_by_name = true)")
        assert session.con.execute("SELECT count(*) - count(c) FROM t").fetchall() == [(1,)]
    finally:
        session.close()


@pytest.mark.parametrize("names", [["order id", 'a"b', "x-y"], ["ΟΔΟΣ", "ŞEHİR", "KELVIN_\u212a"]])
def test_names_pyiceberg_stores_otherwise_or_that_fold_differently_count_right(tmp_path, names):
    """pyiceberg writes "order id" as "order_x20id"; Greek and Turkish letters lower-case one way
    in DuckDB and another in Python. Each column holds one null, read back by the pass and counted
    from the footers alike."""
    from headwater.storage.lakehouse import Lakehouse

    lake = Lakehouse(f"sqlite:///{tmp_path}/catalog.db", str(tmp_path / "wh"), "hw")
    lake.write("t", pa.table({n: pa.array([1, None, 3], pa.int64()) for n in names}), mode="append")
    contract = "product: t\nversion: 1.0.0\ncolumns:\n" + "".join(
        f"  - {{name: '{n}', type: long, nullable: false}}\n" for n in names)
    plan = build_plan(Contract.model_validate(YAML(typ="safe").load(contract)))
    scan = lake.plan("t")
    counts = []
    for files in (scan.files, None):
        session = DuckDBSession()
        session.register_plan("__hw_table", scan)
        try:
            assert session.query('SELECT * FROM "__hw_table"').to_pylist()[0] == dict.fromkeys(names, 1)
            run, _ = ev.evaluate(session, plan, scan.schema, lakehouse=lake, now=datetime.now(timezone.utc),
                                 row_ids=False, samples=0, relation='"__hw_table"', files=files)
            if files:
                assert footer_nulls(session, plan, scan.schema, files) == {f"{n}.not_null": 1 for n in names}
        finally:
            session.close()
        counts.append({r.check.id: r.failed_rows for r in run.results if r.check.kind == "not_null"})
    assert counts[0] == counts[1] == {f"{n}.not_null": 1 for n in names}


def test_a_file_listed_twice_leaves_the_rule_to_the_pass(tmp_path):
    paths = _files(tmp_path)
    session = DuckDBSession()
    plan = build_plan(Contract.model_validate(YAML(typ="safe").load(CONTRACT)))
    try:
        assert footer_nulls(session, plan, pa.schema([("c", pa.int64())]), paths + paths[:1]) == {}
    finally:
        session.close()


def test_a_footer_that_cannot_be_read_leaves_the_rule_to_the_pass(tmp_path):
    session = DuckDBSession()
    plan = build_plan(Contract.model_validate(YAML(typ="safe").load(CONTRACT)))
    try:
        assert footer_nulls(session, plan, pa.schema([("c", pa.int64())]), [str(tmp_path / "gone.parquet")]) == {}
    finally:
        session.close()


def test_contract_check_counts_from_footers_only_when_no_delete_files_apply(shop_root, clock, monkeypatch):
    """A contract tightened after the data was written; then a delete file removes the bad row."""
    import dataclasses

    from headwater.platform import Platform

    (shop_root / "data/customers.csv").write_text("customer_id,country\n1,DE\n2,\n3,DE\n")
    assert Platform(shop_root, clock=clock).run(["stg_customers"]).status == "success"
    (shop_root / "contracts/stg_customers.yaml").write_text(
        "product: stg_customers\nversion: 1.0.0\n"
        "columns: [{name: customer_id, type: long}, {name: country, type: string, nullable: false}]\n")
    platform = Platform(shop_root, clock=clock)
    answered = []
    real = ev.footer_nulls
    monkeypatch.setattr(ev, "footer_nulls", lambda *a, **k: answered.append(real(*a, **k)) or answered[-1])
    run = platform.contracts.check("stg_customers")
    assert {r.check.id: r.failed_rows for r in run.results}["country.not_null"] == 1
    assert answered == [{"country.not_null": 1}]

    scan = platform.lakehouse.plan("stg_customers")
    null_at = [i for i, row in enumerate(pq.read_table(scan.files[0]).to_pylist()) if row["country"] is None]
    deletes = shop_root / "deletes.parquet"
    pq.write_table(pa.table({"file_path": [scan.files[0]], "pos": pa.array(null_at, pa.int64())}), deletes)
    monkeypatch.setattr(platform.lakehouse, "plan", lambda *a, **k: dataclasses.replace(
        scan, delete_files=[str(deletes)], record_count=scan.record_count - 1))
    run = platform.contracts.check("stg_customers")
    assert {r.check.id: r.failed_rows for r in run.results}["country.not_null"] == 0  # the footers still say 1
    assert len(answered) == 1  # not asked: the files are not read as they are
