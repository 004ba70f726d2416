"""The benchmark's orders table: N rows with planted violations, and the exact ground truth.

``dirty``: multiply every planted share by this factor (100: ~29% of the rows break a rule), and
give each planted bad string a value of its own ("lost 1234" rather than "lost"), so a column's
failing values are many and distinct, as in data that went wrong upstream. The default (1) is the
benchmark's table: rare failures, one bad value per rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled"]
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK"]
COUNTRIES = ["DE", "FR", "US", "GB", "NL", "SE", "CH", "ES", "IT", "PL"]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# rule id -> share of rows planted to break it (disjoint sets of rows)
PLANT = {"order_id.unique": 0.0005, "customer_id.not_null": 0.0004, "email_format": 0.0003,
         "status.accepted_values": 0.0002, "amount_not_negative": 0.0003, "amount.max": 0.0001,
         "quantity.range": 0.0002, "country.length": 0.0001, "currency.pattern": 0.0001,
         "currency.accepted_values": 0.0001, "updated_after_created": 0.0004, "discount.range": 0.0002}


def generate(path: Path, n: int, seed: int = 11, dirty: int = 1) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    rows = np.arange(n, dtype=np.int64)
    order = rng.permutation(n)
    picks, start = {}, 0
    for rule, share in PLANT.items():
        k = max(1, int(n * share * dirty))
        picks[rule] = np.sort(order[start:start + k])
        start += k
    order_id = rows + 1_000_000
    dup = picks["order_id.unique"]
    # duplicates copy the id of an earlier, untouched row, so each is exactly one extra occurrence
    order_id[dup] = order_id[order[start:start + len(dup)]]
    start += len(dup)
    customer = rng.integers(1, n // 10 + 2, n).astype(np.int64)
    cust_valid = np.ones(n, bool)
    cust_valid[picks["customer_id.not_null"]] = False
    status_idx = rng.integers(0, len(STATUSES), n)
    status = pa.array(np.array(STATUSES, dtype=object)[status_idx])
    amount = np.round(rng.gamma(2.0, 40.0, n), 2)
    amount[picks["amount_not_negative"]] *= -1
    amount[picks["amount.max"]] = 250_000.0
    quantity = rng.integers(1, 20, n).astype(np.int32)
    quantity[picks["quantity.range"]] = 0
    discount = np.round(rng.uniform(0, 0.3, n), 3)
    discount[picks["discount.range"]] = 1.5
    created = (np.int64(1_767_225_600_000_000) + rng.integers(0, 90 * 86_400_000_000, n)).astype("datetime64[us]")
    updated = created + rng.integers(0, 3_600_000_000, n).astype("timedelta64[us]")
    bad = picks["updated_after_created"]
    updated[bad] = created[bad] - np.timedelta64(60_000_000, "us")
    email = pc.binary_join_element_wise(pa.array(np.char.mod("user%d", customer % 1_000_000)), pa.scalar("@shop.example"), "")
    own = dirty > 1  # each bad value its own
    email = _set(email, picks["email_format"], "not-an-email", own)
    status = _set(status, picks["status.accepted_values"], "lost", own)
    country = _set(pa.array(np.array(COUNTRIES, dtype=object)[rng.integers(0, len(COUNTRIES), n)]),
                   picks["country.length"], "DEU", own)
    currency = pa.array(np.array(CURRENCIES, dtype=object)[rng.integers(0, len(CURRENCIES), n)])
    currency = _set(currency, picks["currency.pattern"], "eur", own)
    other = [a + b + c for a in LETTERS for b in LETTERS for c in LETTERS if a + b + c not in CURRENCIES]
    currency = _set(currency, picks["currency.accepted_values"], "JPY",
                    np.array(other, dtype=object)[np.arange(len(picks["currency.accepted_values"])) % len(other)]
                    if own else False)
    table = pa.table({
        "order_id": order_id, "customer_id": pa.array(customer, mask=~cust_valid), "email": email,
        "status": status, "amount": amount, "quantity": quantity, "discount": discount, "country": country,
        "currency": currency, "created_at": pa.array(created, pa.timestamp("us", tz="UTC")),
        "updated_at": pa.array(updated, pa.timestamp("us", tz="UTC"))})
    pq.write_table(table, path, row_group_size=1_000_000)
    truth = {rule: len(idx) for rule, idx in picks.items()}
    truth["amount_not_negative"] = int((amount < 0).sum())  # a planted 0.00 negated stays 0
    truth["currency.accepted_values"] += truth["currency.pattern"]  # 'eur' is not an accepted value either
    truth.update({"order_id.not_null": 0, "created_at.not_null": 0, "row_count": 0})
    Path(str(path) + ".truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def _set(arr: pa.Array, idx: np.ndarray, value: str, own=False) -> pa.Array:
    """``arr`` with ``value`` at ``idx``; ``own``: "value <row>" at each (or these values, if an array)."""
    if own is False:
        mask = np.zeros(len(arr), bool)
        mask[idx] = True
        return pc.if_else(pa.array(mask), pa.scalar(value), arr)
    values = own if isinstance(own, np.ndarray) else np.char.add(value + " ", idx.astype(str)).astype(object)
    out = np.array(arr.to_pylist(), dtype=object)  # strings only: the bench's columns fit in memory
    out[idx] = values
    return pa.array(out, pa.string())
