"""Web events as JSON lines: sessions that view products, and some that go on to buy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.examples.ecommerce._catalog import Catalog, Customers
from headwater.examples.ecommerce._common import CLICKS, DAYS, HOUR_P, Window, day_chunks, stream
from headwater.examples.ecommerce._io import (
    US_PER_DAY,
    US_PER_SECOND,
    JsonlSink,
    concat,
    iso_text,
    pick,
)

EVENT_TYPES = ["view", "add_to_cart", "checkout", "purchase"]
EVENTS = pa.schema([
    ("event_id", pa.int64()), ("session_id", pa.int64()), ("customer_id", pa.int64()),
    ("event_ts", pa.string()), ("event_type", pa.string()), ("product_id", pa.int64()),
    ("page", pa.string()),
])
# Mean events per session given the funnel below (views ~2.9, then 30% / 55% / 75% step rates).
_EVENTS_PER_SESSION = 1 / 0.35 + 0.30 * (1 + 0.55 * (1 + 0.75))
_SESSIONS_PER_CHUNK = 300_000


def write_clickstream(path: Path, target_events: int, customers: Customers, catalog: Catalog,
                      window: Window, seed: int) -> int:
    """About ``target_events`` events; sessions follow the same daily rhythm as orders."""
    sessions = max(1, round(target_events / _EVENTS_PER_SESSION))
    per_day = stream(seed, CLICKS).multinomial(sessions, window.day_weights(stream(seed, DAYS)))
    next_session = next_event = 1
    with JsonlSink(path, EVENTS) as sink:
        for index, (first, stop) in enumerate(day_chunks(per_day, _SESSIONS_PER_CHUNK)):
            rng = stream(seed, CLICKS, index + 1)
            table = _sessions(rng, first, per_day[first:stop], next_session, next_event,
                              customers, catalog, window)
            next_session += int(per_day[first:stop].sum())
            next_event += table.num_rows
            sink.write(table)
    return sink.rows


def _sessions(rng: np.random.Generator, first_day: int, counts: np.ndarray, session_base: int,
              event_base: int, customers: Customers, catalog: Catalog, window: Window) -> pa.Table:
    s = int(counts.sum())
    day = np.repeat(np.arange(first_day, first_day + len(counts)), counts)
    hour_us = 3600 * US_PER_SECOND
    start = np.sort(window.start_us + day * US_PER_DAY + rng.choice(24, s, p=HOUR_P) * hour_us
                    + rng.integers(0, hour_us, s))
    views = rng.geometric(0.35, s)
    cart = rng.random(s) < 0.30
    checkout = cart & (rng.random(s) < 0.55)
    purchase = checkout & (rng.random(s) < 0.75)
    length = views + cart + checkout + purchase
    owner = np.repeat(np.arange(s), length)
    n = len(owner)
    begin = np.cumsum(length) - length
    position = np.arange(n) - begin[owner]
    # The funnel steps are nested (no checkout without a cart), so the step after the views is
    # simply how far past the last view the event is.
    kind = np.maximum(0, position - views[owner] + 1)
    product = catalog.sample(rng, n)
    last_view = begin + views - 1
    product = np.where(kind == 0, product, product[last_view[owner]])
    gaps = rng.exponential(40.0, n) * US_PER_SECOND
    gaps[begin] = 0
    elapsed = np.cumsum(gaps)
    offset = (elapsed - elapsed[begin][owner]).astype(np.int64)
    event_us = np.minimum(start[owner] + offset, window.end_us - 1)
    signed_in = rng.random(s) >= 0.45  # anonymous visitors have no customer_id
    customer = np.where(signed_in, customers.sample(rng, s) + 1, 0)[owner]
    product_id = pa.array(product + 1, type=pa.int64())
    page = pc.if_else(pa.array(kind <= 1), concat("/products/", product_id.cast(pa.string())),
                      pick(["", "", "/checkout", "/checkout/confirmation"], kind))
    return pa.table({
        "event_id": np.arange(event_base, event_base + n, dtype=np.int64),
        "session_id": (session_base + owner).astype(np.int64),
        "customer_id": pa.array(customer, type=pa.int64(), mask=customer == 0),
        "event_ts": iso_text(event_us, millis=True),
        "event_type": pick(EVENT_TYPES, kind),
        "product_id": product_id,
        "page": page,
    })
