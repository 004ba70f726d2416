"""Deterministic raw data for the ecommerce example.

``generate(out_dir, scale, seed, end_date)`` writes eleven raw files (CSV, Parquet, JSON lines)
covering the 90 days that end at ``end_date``, plus ``_planted.json``: the exact rows of bad data
planted on purpose (duplicate orders, negative payments, malformed e-mails, orphan foreign keys)
for the contract checks to find.

The output depends only on (scale, seed, end_date). Every table draws from its own random
stream, the large facts are generated and written a chunk of days at a time, and all work is
vectorised numpy/Arrow: scale 1 is about 100k orders, scale 100 about 10M orders in a few GB.

Sizes per scale (see ``Sizes``): orders 100k x scale, customers 20k x scale, products 2k x scale
(capped at 50k), suppliers 100 x scale (capped at 1k), clickstream 5 events per order (capped at
10M), inventory one row per product, warehouse (3) and day.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

from headwater.errors import HeadwaterError
from headwater.examples.ecommerce._catalog import (
    draw_customers,
    write_customers,
    write_products,
    write_suppliers,
)
from headwater.examples.ecommerce._clickstream import write_clickstream
from headwater.examples.ecommerce._common import (
    DAYS,
    ORDERS,
    Planted,
    Sizes,
    Window,
    day_chunks,
    stream,
)
from headwater.examples.ecommerce._sales import SalesWriter
from headwater.examples.ecommerce._supply import write_inventory, write_purchase_orders

FILES = (
    "customers.csv", "suppliers.csv", "products.csv", "orders.parquet", "order_items.parquet",
    "payments.parquet", "returns.csv", "inventory_snapshots.parquet", "price_changes.csv",
    "clickstream.jsonl", "purchase_orders.parquet",
)
PLANTED_FILE = "_planted.json"
WINDOW_DAYS = 90
# Orders per chunk: bounds memory (items, payments and returns of a chunk live together).
CHUNK_ORDERS = 500_000


def generate(out_dir: Path, scale: float = 1.0, seed: int = 7,
             end_date: date | None = None) -> dict[str, int]:
    """Write the raw files into ``out_dir`` and return the number of rows in each.

    ``end_date`` defaults to today's UTC date; orders span the 90 days ending on it (inclusive).
    The same (scale, seed, end_date) always produces byte-identical files.
    """
    if not scale > 0:
        raise HeadwaterError(f"scale must be a positive number, got {scale!r}",
                             fix="pass --scale 1 for about 100k orders (0.02 for a quick demo)")
    end_date = end_date or datetime.now(timezone.utc).date()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sizes = Sizes.for_scale(scale)
    window = Window(end_date, WINDOW_DAYS)
    planted = Planted()
    rows: dict[str, int] = {}

    suppliers, rows["suppliers.csv"] = write_suppliers(out / "suppliers.csv", sizes.suppliers, seed)
    catalog, rows["products.csv"], rows["price_changes.csv"] = write_products(
        out / "products.csv", out / "price_changes.csv", sizes.products, sizes.suppliers,
        window, seed)
    customers = draw_customers(sizes.customers, window, seed)

    per_day = stream(seed, ORDERS).multinomial(sizes.orders, window.day_weights(stream(seed, DAYS)))
    sales = SalesWriter(out, window, customers, catalog, planted, sizes.orders)
    try:
        for index, (first, stop) in enumerate(day_chunks(per_day, CHUNK_ORDERS)):
            sales.chunk(stream(seed, ORDERS, index + 1), first, per_day[first:stop])
    finally:
        rows.update(sales.close())

    # Written after the orders: signup dates are pulled back to each customer's first order.
    rows["customers.csv"] = write_customers(out / "customers.csv", customers, planted)
    rows["inventory_snapshots.parquet"] = write_inventory(
        out / "inventory_snapshots.parquet", catalog, window, seed)
    rows["purchase_orders.parquet"] = write_purchase_orders(
        out / "purchase_orders.parquet", catalog, suppliers, window, seed)
    rows["clickstream.jsonl"] = write_clickstream(
        out / "clickstream.jsonl", sizes.click_events, customers, catalog, window, seed)

    ground_truth = {
        "generator": {"example": "ecommerce", "scale": scale, "seed": seed,
                      "end_date": end_date.isoformat(), "days": WINDOW_DAYS},
        "rows": {name: rows[name] for name in FILES},
        "planted": {kind: planted.sections[kind] for kind in sorted(planted.sections)},
    }
    (out / PLANTED_FILE).write_text(json.dumps(ground_truth, indent=1) + "\n", encoding="utf-8")
    return {name: rows[name] for name in FILES}


# The change logs carry the Connect schema on every line (~1.4 KB an event, ~4 KB per order at
# scale 1): past this many orders init leaves them to the command below.
CDC_LOG_MAX_ORDERS = 150_000
CDC_LOG_COMMAND = "python -m headwater.examples.ecommerce._cdc data cdc"


def write_derived(target: Path, rows: dict[str, int], seed: int = 7) -> tuple[dict[str, int], list[str]]:
    """Write the files the project reads outside ``data/``, derived from the raw files: the
    Debezium change logs of the CDC products (``cdc/*.jsonl``). Returns the lines per file
    written, and notes for the user (what was left out, and the command that writes it)."""
    from headwater.examples.ecommerce._cdc import write_change_logs

    if rows.get("orders.parquet", 0) > CDC_LOG_MAX_ORDERS:
        note = (f"the CDC products' change logs (cdc/*.jsonl) were not written at this scale "
                f"(more than {CDC_LOG_MAX_ORDERS:,} orders; several GB): to mirror orders_cdc, "
                f"payments_cdc and returns_cdc, run '{CDC_LOG_COMMAND}' in the project folder")
        return {}, [note]
    logs = write_change_logs(Path(target) / "data", Path(target) / "cdc", seed=seed)
    return {f"cdc/{name}": n for name, n in logs.items()}, []


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a convenience for humans
    """``python -m headwater.examples.ecommerce.generate OUT [SCALE] [SEED] [END_DATE]``."""
    import sys
    import time

    args = sys.argv[1:] if argv is None else argv
    started = time.perf_counter()
    rows = generate(Path(args[0]), float(args[1]) if len(args) > 1 else 1.0,
                    int(args[2]) if len(args) > 2 else 7,
                    date.fromisoformat(args[3]) if len(args) > 3 else None)
    for name, n in rows.items():
        print(f"{name:30} {n:>12,}")
    print(f"{'seconds':30} {time.perf_counter() - started:>12.1f}")


if __name__ == "__main__":  # pragma: no cover
    main()
