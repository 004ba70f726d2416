"""Reading tables for 'headwater query' and downstream products: schema evolution, the query's SQL
checks, companion tables, and the query command's output."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.engines.duckdb import DuckDBSession
from headwater.errors import HeadwaterError
from headwater.platform import Platform
from headwater.storage.lakehouse import ScanPlan
from tests.projects import mini_project

ORDERS_SQL = "SELECT order_id, customer_id, CAST(order_ts AS DATE) AS order_date, {amount} FROM raw_orders\n"


def test_a_column_no_data_file_holds_reads_as_a_null_of_the_schema_type(tmp_path):
    root = mini_project(tmp_path / "p", **{"sql/stg_orders.sql": ORDERS_SQL.format(
        amount="CAST(amount AS FLOAT) AS amount")})
    assert Platform(root).run().status == "success"
    (root / "sql/stg_orders.sql").write_text(ORDERS_SQL.format(
        amount="CAST(amount AS DOUBLE) AS amount, 'x' AS note, CAST(1 AS DECIMAL(10, 2)) AS score"))
    hw = Platform(root)
    # no order on that day: no rows written, but the table's schema gains note and score
    assert hw.run(["stg_orders"], partition="2020-01-01").status == "success"
    schema = hw.lakehouse.plan("stg_orders").schema
    assert {"note", "score"} <= set(schema.names)

    table = hw.query("SELECT * FROM stg_orders")
    assert table.num_rows == 12
    assert table.column_names == schema.names
    assert table.column("note").null_count == 12 and table.column("score").null_count == 12
    assert pa.types.is_string(table.schema.field("note").type)
    assert table.schema.field("score").type == pa.decimal128(10, 2)
    assert table.schema.field("amount").type == pa.float64()  # the older files hold FLOAT
    assert hw.run(["daily_revenue"]).status == "success"  # downstream reads it too


def _plan(schema: pa.Schema, files: list[str], delete_files: list[str] | None = None) -> ScanPlan:
    return ScanPlan("t", 1, schema, files, delete_files=delete_files or [])


def _read(plan: ScanPlan) -> pa.Table:
    session = DuckDBSession(threads=1)
    try:
        session.register_plan("t", plan)
        return session.query("SELECT * FROM t ORDER BY id")
    finally:
        session.close()


SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("added", pa.timestamp("us", "UTC")),
                    ("tags", pa.list_(pa.string()))])


def test_a_table_without_files_reads_as_empty_with_its_schema():
    table = _read(_plan(SCHEMA, []))
    assert table.num_rows == 0 and table.schema.equals(SCHEMA)


def test_files_of_older_schemas_read_with_the_newest_schema_with_and_without_deletes(tmp_path):
    old = tmp_path / "old.parquet"
    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int32()), "name": ["a", "b", "c"]}), old)
    newer = tmp_path / "newer.parquet"
    pq.write_table(pa.table({"id": pa.array([4], pa.int64()), "name": ["d"],
                             "tags": pa.array([["x"]], pa.list_(pa.string()))}), newer)
    files = [str(old), str(newer)]
    table = _read(_plan(SCHEMA, files))
    assert table.schema.equals(SCHEMA)
    assert table.column("id").to_pylist() == [1, 2, 3, 4]
    assert table.column("added").null_count == 4 and table.column("tags").to_pylist()[3] == ["x"]

    deletes = tmp_path / "deletes.parquet"
    pq.write_table(pa.table({"file_path": [str(old)], "pos": pa.array([1], pa.int64())}), deletes)
    table = _read(_plan(SCHEMA, files, [str(deletes)]))
    assert table.schema.equals(SCHEMA)
    assert table.column("id").to_pylist() == [1, 3, 4]


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = mini_project(tmp_path_factory.mktemp("q") / "p")
    assert Platform(root).run().status == "success"
    return root


@pytest.mark.parametrize("sql", [
    "SELECT 1 FROM stg_orders LIMIT 1; SELECT 2",
    "SELECT * FROM stg_orders; DROP TABLE stg_orders",
    "SELECT * FROM read_csv_auto('/etc/hostname') AS h, stg_orders",
    "SELECT read_text('/etc/hostname') AS t FROM stg_orders",
    "SELECT * FROM query('SELECT 1') AS q, stg_orders",
], ids=["two-statements", "drop", "file-read", "scalar-file-read", "sql-in-a-string"])
def test_every_sql_problem_is_refused_whatever_tables_it_names(ran, sql):
    with pytest.raises(HeadwaterError) as err:
        Platform(ran).query(sql)
    assert "engine" not in err.value.message  # refused before DuckDB sees it
    assert err.value.fix


def test_a_query_of_several_statements_is_worded_for_the_query(ran):
    with pytest.raises(HeadwaterError, match="'headwater query' runs exactly one SELECT") as err:
        Platform(ran).query("SELECT 1; SELECT 2")
    assert "one statement at a time" in err.value.fix


def test_the_window_table_of_a_streaming_product_is_queryable(tmp_path):
    from tests.streaming.helpers import events, stream_project

    windows = """
        windows:
          - name: per_5m
            size: 5m
            aggregates: {views: "count(*)"}
        """
    root = stream_project(tmp_path / "s", lateness="1m", windows=windows)
    hw = Platform(root)
    hw.streaming.ingest("clicks", events(900))
    assert hw.streaming.run("clicks", until_idle=0.2).status == "success"
    rows = Platform(root).query("SELECT sum(views) AS views FROM clicks__per_5m").to_pylist()
    assert rows == [{"views": 600}]
    with pytest.raises(HeadwaterError, match="no product or source named 'clicks__nope'") as err:
        hw.query("SELECT * FROM clicks__nope")
    assert "<product>__<window>" in err.value.fix


def _cli(root, *args: str):
    result = CliRunner().invoke(app, ["query", *args, "--project", str(root)])
    return result


def test_repeated_column_names_keep_every_column_in_order(ran):
    sql = "SELECT 1 AS a, 2 AS a, 3 AS a_1"
    table = _cli(ran, sql)
    assert table.exit_code == 0, table.output
    assert [c.strip() for c in table.stdout.splitlines()[3].strip("│").split("│")] == ["1", "2", "3"]
    out = _cli(ran, sql, "--csv")
    assert out.exit_code == 0 and out.stdout == "a,a,a_1\n1,2,3\n"
    out = _cli(ran, sql, "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == [{"a": 1, "a_2": 2, "a_1": 3}]
    assert list(json.loads(out.stdout)[0]) == ["a", "a_2", "a_1"]
    assert "a -> a_2" in out.stderr


def test_a_join_with_shared_names_prints_both_sides(ran):
    sql = ("SELECT * FROM stg_customers AS a JOIN stg_customers AS b ON a.customer_id = b.customer_id "
           "ORDER BY 1")
    lines = _cli(ran, sql, "--csv").stdout.split("\n")
    assert lines[:2] == ["customer_id,country,customer_id,country", "1,DE,1,DE"]
    rows = json.loads(_cli(ran, sql, "--json").stdout)
    assert rows[0] == {"customer_id": 1, "country": "DE", "customer_id_1": 1, "country_1": "DE"}


def test_json_prints_null_for_nan_and_infinity(ran):
    out = _cli(ran, "SELECT 'nan'::DOUBLE AS x, ['inf'::DOUBLE, 1.5] AS l, {'k': '-inf'::DOUBLE} AS s", "--json")
    assert out.exit_code == 0, out.output
    assert "NaN" not in out.stdout and "Infinity" not in out.stdout
    assert json.loads(out.stdout) == [{"x": None, "l": [None, 1.5], "s": {"k": None}}]


def test_a_negative_limit_is_a_usage_error(ran):
    out = _cli(ran, "SELECT 1", "--limit", "-1")
    assert out.exit_code == 2 and "shown" not in out.output
    out = _cli(ran, "SELECT * FROM range(3)", "--limit", "0")
    assert out.exit_code == 0 and "3 rows, 0 shown" in out.stderr
