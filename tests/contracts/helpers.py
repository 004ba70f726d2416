"""A small shop project with planted bad rows, for contract tests."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.projects import write_files

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)

PROJECT = {
    "headwater.yaml": "name: shop\n",
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
          - name: stg_customers
            domain: sales
            owner: {team: sales-data, oncall: s@example.com}
            tier: ops
            inputs: [raw_customers]
            transform: {sql: sql/stg_customers.sql}
          - name: stg_orders
            domain: sales
            owner: {team: sales-data, oncall: s@example.com}
            tier: ops
            inputs: [raw_orders, stg_customers]
            transform: {sql: sql/stg_orders.sql}
            partitioning: {column: order_date}
            consumers: [{name: finance-dashboard, owner: finance-bi}]
          - name: order_totals
            domain: finance
            owner: {team: finance-data, oncall: f@example.com}
            tier: finance
            inputs: [stg_orders]
            transform: {sql: sql/order_totals.sql}
        """,
    "sql/stg_customers.sql": "SELECT customer_id, country FROM raw_customers\n",
    "sql/stg_orders.sql": ("SELECT o.order_id, o.customer_id, o.email, o.status, o.amount, o.created_at, "
                           "o.updated_at, CAST(o.created_at AS DATE) AS order_date, o.tags, c.country "
                           "FROM raw_orders o LEFT JOIN stg_customers c USING (customer_id) "
                           "WHERE o.status <> 'test'\n"),
    "sql/order_totals.sql": "SELECT status, count(*) AS orders, sum(amount) AS amount FROM stg_orders GROUP BY ALL\n",
    "data/customers.csv": "customer_id,country\n1,DE\n2,FR\n3,DE\n",
}

CONTRACT = """
product: stg_orders
version: 1.0.0
description: Orders as checkout delivers them.
owner: {team: sales-data}
consumers: [{name: finance-dashboard, owner: finance-bi}]
columns:
  - {name: order_id, type: long, nullable: false}
  - name: customer_id
    type: long
    checks: [{references: stg_customers.customer_id}]
  - name: email
    type: string
    pii: true
    checks:
      - {pattern: '[^@ ]+@[^@ ]+\\.[a-z]+', id: email_format}
      - {length: {max: 40}, severity: warn}
  - name: status
    type: string
    checks: [{accepted_values: [placed, shipped, cancelled]}]
  - name: amount
    type: decimal(10,2)
    checks: [{range: {min: 0}, id: amount_not_negative}]
  - {name: created_at, type: timestamptz}
  - {name: updated_at, type: timestamptz}
  - {name: order_date, type: date}
  - {name: tags, type: list<string>}
primary_key: [order_id]
rules:
  - {id: updated_after_created, expression: updated_at >= created_at}
  - {row_count: {min: 1, max: 1000}}
  - {freshness: {column: created_at, within: 30d}}
"""


def order(oid, customer=1, email=None, status="placed", amount="10.00", day=0, minutes=0, upd=5,
          tags=("a",)):
    from decimal import Decimal

    created = T0 + dt.timedelta(days=day, minutes=minutes)
    return {"order_id": oid, "customer_id": customer, "email": email or f"user{oid}@shop.com",
            "status": status, "amount": Decimal(amount), "created_at": created,
            "updated_at": created + dt.timedelta(minutes=upd), "tags": list(tags)}


GOOD = [order(i, customer=i % 3 + 1, day=i % 2, minutes=i) for i in range(1, 11)]
# Each planted row breaks exactly the rules named on its right.
BAD = [
    order(3, day=1),                                  # primary_key.unique (duplicate of 3)
    order(None),                                      # primary_key.not_null
    order(21, customer=99),                           # customer_id.references
    order(22, email="not-an-email"),                  # email_format
    order(23, status="lost"),                         # status.accepted_values
    order(24, amount="-5.00"),                        # amount_not_negative
    order(25, upd=-10),                               # updated_after_created
    order(26, email="a-very-long-name-that-goes-on-and-on@example.com"),  # email.length (warn only)
    order(27, status="test"),                         # filtered by the transform
]
PLANTED = {"primary_key.unique": 1, "primary_key.not_null": 1, "customer_id.references": 1,
           "email_format": 1, "status.accepted_values": 1, "amount_not_negative": 1,
           "updated_after_created": 1}


def schema() -> pa.Schema:
    return pa.schema([("order_id", pa.int64()), ("customer_id", pa.int64()), ("email", pa.string()),
                      ("status", pa.string()), ("amount", pa.decimal128(10, 2)),
                      ("created_at", pa.timestamp("us", tz="UTC")), ("updated_at", pa.timestamp("us", tz="UTC")),
                      ("tags", pa.list_(pa.string()))])


def write_orders(root: Path, rows: list[dict]) -> None:
    (root / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema()), root / "data/orders.parquet")


def shop(root: Path, rows: list[dict] | None = None, contract: str | None = CONTRACT) -> Path:
    files = dict(PROJECT)
    if contract is not None:
        files["contracts/stg_orders.yaml"] = contract
    write_files(root, files)
    write_orders(root, GOOD + BAD if rows is None else rows)
    return root


def set_contract(root: Path, text: str) -> None:
    (root / "contracts/stg_orders.yaml").write_text(textwrap.dedent(text).lstrip("\n"))
