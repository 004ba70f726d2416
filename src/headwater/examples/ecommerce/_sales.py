"""Facts of the sales domain: orders, order items, payments and returns, one chunk of days at a
time so that memory stays flat whatever the scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from headwater.examples.ecommerce._catalog import (
    CURRENCIES,
    CURRENCY_OF_COUNTRY,
    Catalog,
    Customers,
)
from headwater.examples.ecommerce._common import HOUR_P, Planted, Window, n_planted
from headwater.examples.ecommerce._io import (
    MONEY,
    TS_UTC,
    US_PER_DAY,
    US_PER_SECOND,
    CsvSink,
    ParquetSink,
    iso_text,
    money,
    pick,
    timestamps,
)

STATUSES = ["placed", "shipped", "delivered", "cancelled"]
PLACED, SHIPPED, DELIVERED, CANCELLED = range(4)
METHODS = ["card", "paypal", "apple_pay", "bank_transfer", "gift_card"]
METHOD_P = [0.55, 0.2, 0.12, 0.08, 0.05]
PAYMENT_STATUSES = ["captured", "failed", "refunded"]
REASONS = ["damaged", "wrong_item", "not_as_described", "changed_mind", "arrived_late"]
HOUR_US = 3600 * US_PER_SECOND

ORDERS = pa.schema([("order_id", pa.int64()), ("customer_id", pa.int64()), ("order_ts", TS_UTC),
                    ("status", pa.string()), ("currency", pa.string()), ("updated_at", TS_UTC)])
ITEMS = pa.schema([("order_id", pa.int64()), ("line_no", pa.int32()), ("product_id", pa.int64()),
                   ("quantity", pa.int32()), ("unit_price", MONEY)])
PAYMENTS = pa.schema([("payment_id", pa.int64()), ("order_id", pa.int64()), ("paid_ts", TS_UTC),
                      ("method", pa.string()), ("amount", MONEY), ("status", pa.string())])
RETURNS = pa.schema([("return_id", pa.int64()), ("order_id", pa.int64()),
                     ("product_id", pa.int64()), ("returned_ts", pa.string()),
                     ("quantity", pa.int32()), ("reason", pa.string())])

# Product ids from here up do not exist (the catalogue caps at 50k): used for orphan items.
MISSING_PRODUCT_BASE = 900_000


class SalesWriter:
    """Writes the four sales files; call ``chunk`` once per group of days, in day order."""

    def __init__(self, out: Path, window: Window, customers: Customers, catalog: Catalog,
                 planted: Planted, total_orders: int) -> None:
        self.window, self.customers, self.catalog = window, customers, catalog
        self.planted = planted
        self.total_orders = total_orders
        self.orders = ParquetSink(out / "orders.parquet", ORDERS)
        self.items = ParquetSink(out / "order_items.parquet", ITEMS)
        self.payments = ParquetSink(out / "payments.parquet", PAYMENTS)
        self.returns = CsvSink(out / "returns.csv", RETURNS)
        self.next_order = self.next_payment = self.next_return = 1

    def close(self) -> dict[str, int]:
        return {"orders.parquet": self.orders.close(), "order_items.parquet": self.items.close(),
                "payments.parquet": self.payments.close(), "returns.csv": self.returns.close()}

    def chunk(self, rng: np.random.Generator, first_day: int, counts: np.ndarray) -> None:
        """Orders for ``len(counts)`` days starting at window day ``first_day``."""
        w, n = self.window, int(counts.sum())
        day = np.repeat(np.arange(first_day, first_day + len(counts)), counts)
        hour = rng.choice(24, n, p=HOUR_P)
        order_us = np.sort(w.start_us + day * US_PER_DAY + hour * HOUR_US
                           + rng.integers(0, HOUR_US, n))
        order_id = np.arange(self.next_order, self.next_order + n, dtype=np.int64)
        self.next_order += n
        cust = self.customers.sample(rng, n)
        self.customers.saw_order(cust, w.start_day + (order_us - w.start_us) // US_PER_DAY)
        status, updated, delivered_us = _lifecycle(rng, order_us, w.end_us)
        totals, items = self._items(rng, order_id, order_us)
        self._orders(rng, order_id, cust, order_us, status, updated)
        self._payments(rng, order_id, order_us, status, totals)
        self._returns(rng, order_id, status, delivered_us, items)

    def _orders(self, rng, order_id, cust, order_us, status, updated) -> None:
        n = len(order_id)
        dup = np.sort(rng.choice(n, n_planted(0.001, n), replace=False))
        # The duplicate lands right after its original, as a re-delivered row would.
        rows = np.sort(np.r_[np.arange(n), dup], kind="stable")
        self.planted.add("duplicate_orders", "orders.parquet",
                         "order rows delivered twice (identical copies)", order_ids=order_id[dup])
        currency = CURRENCY_OF_COUNTRY[self.customers.country[cust]]
        self.orders.write(pa.table({
            "order_id": order_id[rows], "customer_id": (cust[rows] + 1).astype(np.int64),
            "order_ts": timestamps(order_us[rows]), "status": pick(STATUSES, status[rows]),
            "currency": pick(CURRENCIES, currency[rows]), "updated_at": timestamps(updated[rows]),
        }))

    def _items(self, rng, order_id, order_us) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n = len(order_id)
        lines = 1 + np.minimum(rng.poisson(1.5, n), 9)
        owner = np.repeat(np.arange(n), lines)
        m = len(owner)
        line_no = np.arange(m) - np.repeat(np.cumsum(lines) - lines, lines) + 1
        product = self.catalog.sample(rng, m)
        quantity = 1 + np.minimum(rng.poisson(0.35, m), 5)
        price = self.catalog.price_at(product, order_us[owner], self.window)
        discounted = rng.random(m) < 0.12
        sale_price = np.maximum(1, np.rint(price * rng.uniform(0.7, 0.95, m)))
        price = np.where(discounted, sale_price, price)
        price = price.astype(np.int64)
        totals = np.bincount(owner, weights=quantity * price, minlength=n).round().astype(np.int64)
        product_id = (product + 1).astype(np.int64)
        orphan = np.sort(rng.choice(m, n_planted(0.0005, m), replace=False))
        product_id[orphan] = MISSING_PRODUCT_BASE + rng.integers(0, 99_999, len(orphan))
        self.planted.add("orphan_order_items", "order_items.parquet",
                         "order lines whose product_id is not in products.csv",
                         order_ids=order_id[owner[orphan]], line_nos=line_no[orphan],
                         product_ids=product_id[orphan])
        self.items.write(pa.table({
            "order_id": order_id[owner], "line_no": line_no.astype(np.int32),
            "product_id": product_id, "quantity": quantity.astype(np.int32),
            "unit_price": money(price),
        }))
        # Returns name the product really sold, not the planted orphan id.
        return totals, {"owner": owner, "product_id": (product + 1).astype(np.int64),
                        "quantity": quantity,
                        "first": np.cumsum(lines) - lines, "lines": lines}

    def _payments(self, rng, order_id, order_us, status, totals) -> None:
        n = len(order_id)
        retried = rng.random(n) < 0.03  # a declined card, then a successful second attempt
        attempts = 1 + retried
        owner = np.repeat(np.arange(n), attempts)
        first_of_two = np.r_[False, owner[1:] == owner[:-1]]
        failed = np.r_[first_of_two[1:], False]  # the earlier of two attempts failed
        paid = order_us[owner] + np.where(failed, rng.integers(1, 5, len(owner)),
                                          rng.integers(5, 300, len(owner))) * US_PER_SECOND
        paid = np.minimum(paid, self.window.end_us - 1)
        code = np.where(failed, 1, np.where(status[owner] == CANCELLED, 2, 0))
        cents = totals[owner].copy()
        pay_id = np.arange(self.next_payment, self.next_payment + len(owner), dtype=np.int64)
        self.next_payment += len(owner)
        captured = np.flatnonzero(code == 0)
        negative = np.sort(rng.choice(captured, n_planted(0.0005, len(captured)), replace=False))
        cents[negative] = -cents[negative]
        self.planted.add("negative_payments", "payments.parquet",
                         "captured payments with a negative amount", payment_ids=pay_id[negative])
        self.payments.write(pa.table({
            "payment_id": pay_id, "order_id": order_id[owner], "paid_ts": timestamps(paid),
            "method": pick(METHODS, rng.choice(len(METHODS), len(owner), p=METHOD_P)),
            "amount": money(cents), "status": pick(PAYMENT_STATUSES, code),
        }))

    def _returns(self, rng, order_id, status, delivered_us, items) -> None:
        returned = np.flatnonzero((status == DELIVERED) & (rng.random(len(order_id)) < 0.05))
        at = delivered_us[returned] + rng.integers(US_PER_DAY, 25 * US_PER_DAY, len(returned))
        keep = at < self.window.end_us  # a return cannot be logged after the data ends
        returned, at = returned[keep], at[keep]
        line = items["first"][returned] + rng.integers(0, items["lines"][returned])
        k = len(returned)
        quantity = 1 + (rng.random(k) * items["quantity"][line]).astype(np.int64)
        ret_order = order_id[returned].copy()
        ret_id = np.arange(self.next_return, self.next_return + k, dtype=np.int64)
        self.next_return += k
        orphan = np.sort(rng.choice(k, n_planted(0.003, k), replace=False))
        # Ids past every order id this run generates, so they can never exist.
        ret_order[orphan] = self.total_orders + 1_000_000 + rng.integers(0, 1_000_000, len(orphan))
        self.planted.add("orphan_returns", "returns.csv",
                         "returns whose order_id is not in orders.parquet",
                         return_ids=ret_id[orphan], order_ids=ret_order[orphan])
        self.returns.write(pa.table({
            "return_id": ret_id, "order_id": ret_order, "product_id": items["product_id"][line],
            "returned_ts": iso_text(at), "quantity": quantity.astype(np.int32),
            "reason": pick(REASONS, rng.choice(len(REASONS), k, p=[0.2, 0.15, 0.25, 0.3, 0.1])),
        }))


def _lifecycle(rng: np.random.Generator, order_us: np.ndarray,
               end_us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status as of the end of the window, when it last changed, and when it was delivered."""
    n = len(order_us)
    ship = order_us + (rng.gamma(2.0, 0.5, n) * US_PER_DAY).astype(np.int64)
    deliver = ship + (rng.gamma(3.0, 0.8, n) * US_PER_DAY).astype(np.int64)
    cancel = order_us + (rng.exponential(6.0, n) * HOUR_US).astype(np.int64)
    cancelled = (rng.random(n) < 0.04) & (cancel < end_us)
    status = np.where(deliver < end_us, DELIVERED, np.where(ship < end_us, SHIPPED, PLACED))
    status = np.where(cancelled, CANCELLED, status)
    placed_touch = order_us + rng.integers(0, 120, n) * US_PER_SECOND
    updated = np.choose(status, [placed_touch, ship, deliver, cancel])
    updated = np.maximum(order_us, np.minimum(updated, end_us - 1))
    return status, updated, deliver
