"""Facts of the supply domain: daily inventory snapshots and purchase orders to suppliers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from headwater.examples.ecommerce._catalog import Catalog, Suppliers
from headwater.examples.ecommerce._common import INVENTORY, PURCHASES, Window, stream
from headwater.examples.ecommerce._io import ParquetSink, dates

WAREHOUSES = ["AMS1", "FRA1", "DAL1"]

SNAPSHOTS = pa.schema([("snapshot_date", pa.date32()), ("product_id", pa.int64()),
                       ("warehouse", pa.string()), ("on_hand", pa.int32()),
                       ("reserved", pa.int32())])
PURCHASE_ORDERS = pa.schema([
    ("po_id", pa.int64()), ("supplier_id", pa.int64()), ("product_id", pa.int64()),
    ("ordered_qty", pa.int32()), ("received_qty", pa.int32()), ("ordered_date", pa.date32()),
    ("expected_date", pa.date32()), ("received_date", pa.date32()),
])
_ROWS_PER_WRITE = 1_000_000


def write_inventory(path: Path, catalog: Catalog, window: Window, seed: int) -> int:
    """One row per product, warehouse and day: a random walk of sales and restocks."""
    rng = stream(seed, INVENTORY)
    k = catalog.size * len(WAREHOUSES)
    product_id = np.repeat(np.arange(1, catalog.size + 1, dtype=np.int64), len(WAREHOUSES))
    warehouse = pa.array(WAREHOUSES * catalog.size)
    level = rng.gamma(2.0, 40.0, k)                  # the stock a warehouse aims to hold
    demand = level * rng.uniform(0.03, 0.15, k)      # units sold per day
    on_hand = rng.poisson(level)
    days_per_write = max(1, _ROWS_PER_WRITE // k)
    batch: list[pa.Table] = []
    with ParquetSink(path, SNAPSHOTS) as sink:
        for day in range(window.days):
            on_hand = np.maximum(0, on_hand - rng.poisson(demand))
            # Restocks arrive some days after stock runs low, so there are real stock-outs.
            restock = (on_hand < 0.25 * level) & (rng.random(k) < 0.35)
            on_hand = on_hand + np.where(restock, rng.poisson(level), 0)
            reserved = rng.binomial(on_hand, 0.08)
            batch.append(pa.table({
                "snapshot_date": dates(np.full(k, window.start_day + day)),
                "product_id": product_id, "warehouse": warehouse,
                "on_hand": on_hand.astype(np.int32), "reserved": reserved.astype(np.int32),
            }, schema=SNAPSHOTS))
            if len(batch) == days_per_write or day == window.days - 1:
                sink.write(pa.concat_tables(batch))
                batch = []
    return sink.rows


def write_purchase_orders(path: Path, catalog: Catalog, suppliers: Suppliers, window: Window,
                          seed: int) -> int:
    """Replenishment orders placed every three weeks or so per product, some late or short."""
    rng = stream(seed, PURCHASES)
    lookback = 45  # orders placed before the window still arrive inside it
    per_product = rng.poisson((window.days + lookback) / 21, catalog.size)
    product = np.repeat(np.arange(catalog.size), per_product)
    m = len(product)
    supplier = catalog.supplier_idx[product]
    ordered = window.start_day - lookback + rng.integers(0, window.days + lookback, m)
    order = np.lexsort((product, ordered))
    product, supplier, ordered = product[order], supplier[order], ordered[order]
    expected = ordered + suppliers.lead_time_days[supplier]
    lateness = rng.poisson(suppliers.delay_days[supplier]) - rng.integers(0, 3, m)
    received = np.maximum(ordered + 1, expected + lateness)
    ordered_qty = rng.integers(1, 21, m) * 10
    full = rng.random(m) < suppliers.fill_rate[supplier]
    short = (ordered_qty * rng.uniform(0.4, 0.95, m)).astype(np.int64)
    received_qty = np.where(full, ordered_qty, short)
    last_day = window.start_day + window.days - 1
    still_open = (received > last_day) | (rng.random(m) < 0.01)  # in transit, or lost
    table = pa.table({
        "po_id": np.arange(1, m + 1, dtype=np.int64),
        "supplier_id": (supplier + 1).astype(np.int64),
        "product_id": (product + 1).astype(np.int64),
        "ordered_qty": ordered_qty.astype(np.int32),
        "received_qty": np.where(still_open, 0, received_qty).astype(np.int32),
        "ordered_date": dates(ordered),
        "expected_date": dates(expected),
        "received_date": dates(received, missing=still_open),
    }, schema=PURCHASE_ORDERS)
    with ParquetSink(path, PURCHASE_ORDERS) as sink:
        sink.write(table)
    return m
