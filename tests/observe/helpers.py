"""Feed the mini project's raw orders day by day and run it under a simulated clock."""

from __future__ import annotations

import datetime as dt
import os

import pyarrow as pa
import pyarrow.parquet as pq


def write_days(root, counts: dict[dt.date, int], landed: dt.datetime | None = None) -> None:
    """Rewrite data/orders.parquet with ``counts[day]`` orders on each day; set its mtime to
    ``landed`` (when the feed arrived, in simulated time)."""
    rows, oid = [], 0
    for day, n in sorted(counts.items()):
        for i in range(n):
            oid += 1
            rows.append({"order_id": oid, "customer_id": oid % 3 + 1,
                         "order_ts": dt.datetime.combine(day, dt.time(10, i % 60), tzinfo=dt.timezone.utc),
                         "amount": float(oid)})
    schema = pa.schema([("order_id", pa.int64()), ("customer_id", pa.int64()),
                        ("order_ts", pa.timestamp("us", tz="UTC")), ("amount", pa.float64())])
    path = root / "data" / "orders.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    if landed is not None:
        os.utime(path, (landed.timestamp(), landed.timestamp()))


def daily(hw, clock, first: dt.date, days: int, per_day=lambda d: 4, hour: int = 1,
          products=("stg_orders",)) -> list:
    """Each day at ``hour``: the day before lands, then its partition runs."""
    counts: dict[dt.date, int] = {}
    results = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        counts[day] = per_day(day)
        now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(hour), tzinfo=dt.timezone.utc)
        clock.set(now)
        write_days(hw.root, counts, landed=now - dt.timedelta(minutes=30))
        results.append(hw.run(list(products), partition=day.isoformat()))
    return results
