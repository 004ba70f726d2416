"""Helpers for tests against the real PostgreSQL: a source table and row-for-row comparison."""

from __future__ import annotations

import psycopg

from tests.cdc.helpers import mirror_rows

ORDERS = """CREATE TABLE public.orders (
    id integer PRIMARY KEY, status text NOT NULL, amount numeric(10,2), note text,
    updated_at timestamptz NOT NULL DEFAULT now())"""


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def connect(url: str):
    return psycopg.connect(libpq(url), autocommit=True)


def source_rows(url: str, table: str = "public.orders") -> list[dict]:
    with connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return list(cur.execute(f"SELECT * FROM {table} ORDER BY id"))


def assert_mirror_equals_source(platform, url: str, name: str = "products_mirror") -> None:
    want = source_rows(url)
    got = mirror_rows(platform, name) if platform.lakehouse.exists(name) else []
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == w, (g, w)
