"""The ecommerce example: deterministic data, honest ground truth, and SQL that runs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from headwater.errors import HeadwaterError
from headwater.examples import EXAMPLES, scaffold
from headwater.examples.ecommerce.generate import FILES, PLANTED_FILE, generate
from headwater.spec.loader import load_project

END = date(2025, 3, 31)
SCALE = 0.02
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("shop") / "ecommerce"
    scaffold("ecommerce", target, scale=SCALE, seed=7, end_date=END)
    return target


@pytest.fixture(scope="module")
def data(project_dir: Path) -> Path:
    return project_dir / "data"


@pytest.fixture(scope="module")
def truth(data: Path) -> dict:
    return json.loads((data / PLANTED_FILE).read_text())


def raw(con: duckdb.DuckDBPyConnection, data: Path, all_varchar: bool = False) -> None:
    """Views named like the project's sources, over the generated files."""
    text = ", all_varchar = true" if all_varchar else ""
    readers = {
        "csv": "read_csv('{}', header = true" + text + ")",
        "parquet": "read_parquet('{}')",
        "jsonl": "read_json('{}', format = 'newline_delimited')",
    }
    project = load_project(data.parent)
    for name, source in project.sources.items():
        reader = readers[source.format].format(data.parent / source.path)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {reader}")


def ids(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    return sorted(row[0] if len(row) == 1 else list(row) for row in con.execute(sql).fetchall())


def test_the_files_are_the_declared_ones(data: Path, truth: dict) -> None:
    assert sorted(p.name for p in data.iterdir()) == sorted([*FILES, PLANTED_FILE])
    con = duckdb.connect()
    raw(con, data)
    for name, rows in truth["rows"].items():
        source = "raw_" + name.split(".")[0]
        assert con.execute(f"SELECT count(*) FROM {source}").fetchone()[0] == rows, name


def test_same_inputs_give_identical_bytes(data: Path, tmp_path: Path) -> None:
    rows = generate(tmp_path, scale=SCALE, seed=7, end_date=END)
    assert rows == json.loads((data / PLANTED_FILE).read_text())["rows"]
    for name in [*FILES, PLANTED_FILE]:
        assert (tmp_path / name).read_bytes() == (data / name).read_bytes(), name


def test_another_seed_gives_other_data(data: Path, tmp_path: Path) -> None:
    generate(tmp_path, scale=SCALE, seed=8, end_date=END)
    assert (tmp_path / "orders.parquet").read_bytes() != (data / "orders.parquet").read_bytes()


def test_rows_grow_with_scale(tmp_path: Path) -> None:
    # Above the floors for tiny scales (50 products, 5 suppliers), sizes are proportional.
    small = generate(tmp_path / "small", scale=0.05, seed=7, end_date=END)
    big = generate(tmp_path / "big", scale=0.1, seed=7, end_date=END)
    for rows, orders, folder in ((small, 5_000, "small"), (big, 10_000, "big")):
        planted = json.loads((tmp_path / folder / PLANTED_FILE).read_text())["planted"]
        assert rows["orders.parquet"] - planted["duplicate_orders"]["count"] == orders
    for name in ("customers.csv", "suppliers.csv", "products.csv", "order_items.parquet",
                 "payments.parquet", "inventory_snapshots.parquet", "clickstream.jsonl",
                 "purchase_orders.parquet", "price_changes.csv", "returns.csv"):
        assert 1.7 < big[name] / small[name] < 2.3, name


def test_data_covers_the_90_days_ending_at_end_date(data: Path) -> None:
    con = duckdb.connect()
    raw(con, data)
    con.execute("SET TimeZone = 'UTC'")
    first, last, days, early_updates = con.execute(
        "SELECT min(order_ts)::DATE, max(order_ts)::DATE, count(DISTINCT order_ts::DATE), "
        "count(*) FILTER (WHERE updated_at < order_ts) FROM raw_orders").fetchone()
    assert (first, last, days, early_updates) == (END - timedelta(days=89), END, 90, 0)
    assert ids(con, "SELECT DISTINCT status FROM raw_orders") == [
        "cancelled", "delivered", "placed", "shipped"]
    assert ids(con, "SELECT DISTINCT event_type FROM raw_clickstream") == [
        "add_to_cart", "checkout", "purchase", "view"]
    # Nobody orders before signing up, and clean payments match their order's lines.
    assert con.execute("""
        SELECT count(*) FROM raw_orders o JOIN raw_customers c USING (customer_id)
        WHERE o.order_ts::DATE < c.signup_date""").fetchone()[0] == 0
    assert con.execute("""
        WITH lines AS (SELECT order_id, sum(quantity * unit_price) AS total
                       FROM raw_order_items GROUP BY order_id)
        SELECT count(*) FROM raw_payments p JOIN lines l USING (order_id)
        WHERE abs(p.amount) <> l.total""").fetchone()[0] == 0


def test_planted_ground_truth_matches_the_files(data: Path, truth: dict) -> None:
    con = duckdb.connect()
    raw(con, data)
    planted = truth["planted"]
    assert set(planted) == {"duplicate_orders", "negative_payments", "malformed_emails",
                            "orphan_order_items", "orphan_returns"}

    dup = planted["duplicate_orders"]
    assert ids(con, "SELECT order_id FROM raw_orders GROUP BY order_id HAVING count(*) > 1") \
        == sorted(dup["order_ids"])
    extra, distinct_rows = con.execute(
        "SELECT count(*) - count(DISTINCT order_id), (SELECT count(*) FROM "
        "(SELECT DISTINCT * FROM raw_orders)) FROM raw_orders").fetchone()
    assert extra == dup["count"] and distinct_rows == truth["rows"]["orders.parquet"] - extra

    neg = planted["negative_payments"]
    assert ids(con, "SELECT payment_id FROM raw_payments WHERE amount < 0") \
        == sorted(neg["payment_ids"])

    emails = planted["malformed_emails"]
    assert ids(con, f"SELECT customer_id FROM raw_customers "
                    f"WHERE NOT regexp_full_match(lower(trim(email)), '{EMAIL}')") \
        == sorted(emails["customer_ids"])

    items = planted["orphan_order_items"]
    assert ids(con, "SELECT order_id, line_no FROM raw_order_items i WHERE NOT EXISTS "
                    "(SELECT 1 FROM raw_products p WHERE p.product_id = i.product_id)") \
        == sorted([o, n] for o, n in zip(items["order_ids"], items["line_nos"]))

    returns = planted["orphan_returns"]
    assert ids(con, "SELECT return_id FROM raw_returns r WHERE NOT EXISTS "
                    "(SELECT 1 FROM raw_orders o WHERE o.order_id = r.order_id)") \
        == sorted(returns["return_ids"])
    # Returns point at products that exist (only the order id is planted bad).
    assert con.execute("SELECT count(*) FROM raw_returns r ANTI JOIN raw_products p "
                       "USING (product_id)").fetchone()[0] == 0

    for kind, section in planted.items():
        rows = truth["rows"][section["file"]]
        assert 1 <= section["count"] <= max(1, round(0.005 * rows)), kind


def test_scaffolded_project_loads(project_dir: Path) -> None:
    project = load_project(project_dir)
    assert project.name == "ecommerce"
    assert len(project.sources) == len(FILES)
    assert {p.tier for p in project.products.values()} == {"customer-facing", "ops", "finance"}
    assert {p.domain for p in project.products.values()} == {
        "sales", "supply", "marketing", "finance", "catalog"}
    assert {"fct_orders", "fct_daily_revenue", "dim_customers", "dim_products",
            "supplier_fill_rate", "inventory_availability", "funnel_daily"} <= set(project.products)


@pytest.mark.parametrize("csv_mode", ["typed-csv", "text-csv"])
def test_every_product_sql_runs_in_dependency_order(project_dir: Path, csv_mode: str) -> None:
    project = load_project(project_dir)
    con = duckdb.connect()
    # A non-UTC session: dates must still come out in UTC.
    con.execute("SET TimeZone = 'America/Los_Angeles'")
    raw(con, project_dir / "data", all_varchar=csv_mode == "text-csv")
    batch = {n for n, p in project.products.items() if p.lane == "batch"}  # others have no SQL
    for name in project.topological_order(batch):
        con.execute(f"CREATE TABLE {name} AS {project.sql[name]}")
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] > 0, name
        types = dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                 f"WHERE table_name = '{name}'").fetchall())
        product = project.products[name]
        if product.partitioning is not None:
            assert types[product.partitioning.column] == "DATE", name
        assert set(product.primary_key) <= set(types), name
        for column, kind in types.items():
            assert kind != "HUGEINT", f"{name}.{column}"  # Iceberg has no 128-bit integers
            if column.endswith(("_ts", "_at")):
                assert kind == "TIMESTAMP WITH TIME ZONE", f"{name}.{column}"
    window = (END - timedelta(days=89), END)
    for table, column in (("fct_orders", "order_date"), ("funnel_daily", "event_date"),
                          ("inventory_availability", "snapshot_date")):
        assert con.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone() \
            == window, table
    for column in ("unit_price", "line_amount"):
        assert con.execute(f"SELECT typeof({column}) FROM stg_order_items LIMIT 1").fetchone()[0] \
            == "DECIMAL(12,2)"


def test_scaffold_refuses_a_non_empty_target(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(HeadwaterError, match="not an empty folder") as err:
        scaffold("ecommerce", tmp_path, scale=SCALE, end_date=END)
    assert err.value.fix
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_scaffold_refuses_an_unknown_example(tmp_path: Path) -> None:
    with pytest.raises(HeadwaterError) as err:
        scaffold("bakery", tmp_path / "x")
    assert all(name in err.value.fix for name in EXAMPLES)
    assert not (tmp_path / "x").exists()


def test_scale_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(HeadwaterError, match="scale"):
        generate(tmp_path, scale=0, end_date=END)
