"""Build small projects on disk for tests."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MINI_FILES = {
    "headwater.yaml": "name: mini\n",
    "sources/raw.yaml": """
        sources:
          - name: raw_orders
            format: parquet
            path: data/orders.parquet
          - name: raw_customers
            format: csv
            path: data/customers.csv
        """,
    "products/sales.yaml": """
        products:
          - name: stg_orders
            description: Orders, typed.
            domain: sales
            owner: {team: sales-data, oncall: sales-oncall@example.com}
            tier: ops
            lane: batch
            inputs: [raw_orders]
            transform: {sql: sql/stg_orders.sql}
            partitioning: {column: order_date}
            primary_key: [order_id]
          - name: stg_customers
            domain: sales
            owner: {team: sales-data, oncall: sales-oncall@example.com}
            tier: ops
            inputs: [raw_customers]
            transform: {sql: sql/stg_customers.sql}
          - name: daily_revenue
            domain: finance
            owner: {team: finance-data, oncall: fin@example.com}
            tier: finance
            inputs: [stg_orders, stg_customers]
            transform: {sql: sql/daily_revenue.sql}
            partitioning: {column: order_date}
        """,
    "sql/stg_orders.sql": "SELECT order_id, customer_id, CAST(order_ts AS DATE) AS order_date, amount FROM raw_orders\n",
    "sql/stg_customers.sql": "SELECT customer_id, country FROM raw_customers\n",
    "sql/daily_revenue.sql": textwrap.dedent("""\
        SELECT o.order_date, c.country, count(*) AS orders, sum(o.amount) AS revenue
        FROM stg_orders o JOIN stg_customers c USING (customer_id)
        GROUP BY ALL
        """),
    "data/customers.csv": "customer_id,country\n1,DE\n2,FR\n3,DE\n",
}


def leaf_product(name: str, sql: str, extra: str = "") -> dict[str, str]:
    """Files adding a sales product ``name`` over stg_orders to the mini project (``extra``: more
    YAML lines of the product, e.g. ``"cost: {budget_per_month: 5}"``)."""
    more = f"\n            {extra}" if extra else ""
    return {f"products/{name}.yaml": f"""
        products:
          - name: {name}
            domain: sales
            owner: {{team: sales-data, oncall: sales-oncall@example.com}}
            tier: ops
            inputs: [stg_orders]
            transform: {{sql: sql/{name}.sql}}{more}
        """, f"sql/{name}.sql": sql}


def write_files(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def write_orders(root: Path, days: int = 3, per_day: int = 4, start=dt.date(2026, 1, 1)) -> pa.Table:
    rows = []
    for d in range(days):
        for i in range(per_day):
            oid = d * per_day + i + 1
            rows.append({"order_id": oid, "customer_id": oid % 3 + 1,
                         "order_ts": dt.datetime.combine(start + dt.timedelta(days=d), dt.time(10, i),
                                                         tzinfo=dt.timezone.utc),
                         "amount": float(oid * 10)})
    table = pa.Table.from_pylist(rows)
    (root / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data/orders.parquet")
    return table


def mini_project(root: Path, **overrides: str) -> Path:
    files = dict(MINI_FILES)
    files.update(overrides)
    write_files(root, {k: v for k, v in files.items() if v is not None})
    write_orders(root)
    return root
