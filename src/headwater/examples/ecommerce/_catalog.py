"""Dimensions: suppliers, products with their price history, and customers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.arrays import sorted_unique
from headwater.examples.ecommerce._common import (
    CUSTOMERS,
    PRICES,
    PRODUCTS,
    SUPPLIERS,
    Planted,
    Window,
    n_planted,
    stream,
)
from headwater.examples.ecommerce._io import (
    US_PER_DAY,
    US_PER_SECOND,
    CsvSink,
    concat,
    dates,
    iso_text,
    money_text,
    pick,
)

COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "CA", "AU", "SE", "PL", "BR"]
COUNTRY_P = np.array([28, 14, 13, 10, 6, 6, 5, 5, 4, 3, 3, 3], float) / 100
CURRENCIES = ["USD", "GBP", "EUR", "CAD", "AUD", "SEK", "PLN", "BRL"]
CURRENCY_OF_COUNTRY = np.array([0, 1, 2, 2, 2, 2, 2, 3, 4, 5, 6, 7])
SEGMENTS = ["consumer", "business", "vip"]
FIRST = ["Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jonas",
         "Katja", "Liam", "Maria", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Sven", "Tara",
         "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Lucas", "Mia", "Oskar", "Lena"]
LAST = ["Smith", "Jones", "Muller", "Martin", "Garcia", "Rossi", "Jansen", "Nowak", "Silva",
        "Brown", "Schmidt", "Dubois", "Lopez", "Bianchi", "Visser", "Kowalski", "Santos",
        "Taylor", "Wilson", "Fischer", "Moreau", "Perez", "Romano", "Bakker", "Larsson"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "example.org"]

CATEGORIES = ["electronics", "home", "kitchen", "garden", "toys", "sports", "beauty", "books",
              "fashion", "grocery"]
CATEGORY_P = np.array([14, 12, 11, 7, 9, 10, 9, 8, 13, 7], float) / 100
# Median list price per category, in cents.
CATEGORY_PRICE = np.array([12_900, 3_900, 2_900, 3_400, 2_400, 4_500, 1_900, 1_500, 3_900, 600])
NOUNS = ["Headphones", "Lamp", "Skillet", "Planter", "Puzzle", "Yoga Mat", "Serum", "Novel",
         "Jacket", "Coffee"]
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Eco", "Essential", "Nordic", "Pro", "Smart",
              "Urban", "Vintage", "Premium", "Travel"]
SUPPLIER_COUNTRIES = ["CN", "DE", "US", "VN", "IN", "PL", "IT", "TR", "MX", "GB"]
SUPPLIER_WORDS = ["Acme", "Blue River", "Cedar", "Delta", "Evergreen", "Falcon", "Granite",
                  "Harbor", "Iris", "Juniper", "Kestrel", "Lumen", "Meridian", "Northwind"]
SUPPLIER_SUFFIX = ["Trading", "Manufacturing", "Goods", "Industries", "Supply", "Imports"]

_KEY_SPAN = 1 << 24  # > seconds in the window, so product * span + second sorts by (product, time)


@dataclass(frozen=True)
class Suppliers:
    lead_time_days: np.ndarray  # by supplier index
    fill_rate: np.ndarray       # hidden reliability, drives purchase-order receipts
    delay_days: np.ndarray      # hidden mean lateness


def write_suppliers(path: Path, n: int, seed: int) -> tuple[Suppliers, int]:
    rng = stream(seed, SUPPLIERS)
    names = [f"{SUPPLIER_WORDS[i % len(SUPPLIER_WORDS)]} "
             f"{SUPPLIER_SUFFIX[(i // len(SUPPLIER_WORDS)) % len(SUPPLIER_SUFFIX)]} {i + 1:04d}"
             for i in range(n)]
    lead = rng.integers(3, 41, n)
    table = pa.table({
        "supplier_id": np.arange(1, n + 1, dtype=np.int64),
        "name": names,
        "country": pick(SUPPLIER_COUNTRIES, rng.choice(len(SUPPLIER_COUNTRIES), n)),
        "lead_time_days": lead.astype(np.int32),
    })
    with CsvSink(path, table.schema) as sink:
        sink.write(table)
    hidden = Suppliers(lead, rng.beta(12, 1.2, n), rng.gamma(0.8, 1.5, n))
    return hidden, n


@dataclass(frozen=True)
class Catalog:
    """Products as arrays indexed by ``product_id - 1``, plus their price history."""

    list_cents: np.ndarray
    supplier_idx: np.ndarray
    popularity_cdf: np.ndarray
    change_keys: np.ndarray   # product_idx * span + seconds into the window, sorted
    change_cents: np.ndarray  # price after each change

    @property
    def size(self) -> int:
        return len(self.list_cents)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Product indices drawn by popularity (a few best sellers, a long tail)."""
        return np.minimum(np.searchsorted(self.popularity_cdf, rng.random(n)), self.size - 1)

    def price_at(self, product_idx: np.ndarray, us: np.ndarray, window: Window) -> np.ndarray:
        """The list price in cents of each product at each instant (latest change before it)."""
        keys = product_idx * _KEY_SPAN + (us - window.start_us) // US_PER_SECOND
        pos = np.searchsorted(self.change_keys, keys, side="right") - 1
        safe = np.maximum(pos, 0)
        changed = (pos >= 0) & (self.change_keys[safe] // _KEY_SPAN == product_idx)
        return np.where(changed, self.change_cents[safe], self.list_cents[product_idx])


def write_products(products_path: Path, changes_path: Path, n: int, suppliers: int,
                   window: Window, seed: int) -> tuple[Catalog, int, int]:
    rng = stream(seed, PRODUCTS)
    ids = np.arange(1, n + 1, dtype=np.int64)
    category = rng.choice(len(CATEGORIES), n, p=CATEGORY_P)
    list_cents = np.maximum(
        99, np.rint(CATEGORY_PRICE[category] * rng.lognormal(0, 0.45, n) / 10) * 10 - 1
    ).astype(np.int64)  # prices end in 9
    supplier_idx = rng.integers(0, suppliers, n)
    names = concat(pick(ADJECTIVES, rng.choice(len(ADJECTIVES), n)), " ",
                   pick(NOUNS, category), " ", pc.cast(pa.array(ids % 97 + 1), pa.string()))
    # A few names arrive with stray spaces, so staging has something to trim.
    padded = rng.random(n) < 0.01
    names = pc.if_else(pa.array(padded), concat(" ", names, "  "), names)
    created = (window.start_us - rng.integers(7, 1_000, n) * US_PER_DAY
               - rng.integers(0, US_PER_DAY, n))
    table = pa.table({
        "product_id": ids,
        "sku": concat("SKU-", pc.utf8_lpad(pc.cast(pa.array(ids), pa.string()), 6, "0")),
        "name": names,
        "category": pick(CATEGORIES, category),
        "supplier_id": (supplier_idx + 1).astype(np.int64),
        "list_price": money_text(list_cents),
        "created_at": iso_text(created),
    })
    with CsvSink(products_path, table.schema) as sink:
        sink.write(table)
    weights = rng.lognormal(0, 1.3, n)
    cdf = np.cumsum(weights) / weights.sum()
    keys, new_cents, changes = _write_price_changes(changes_path, list_cents, window, seed)
    return Catalog(list_cents, supplier_idx, cdf, keys, new_cents), n, changes


def _write_price_changes(path: Path, list_cents: np.ndarray, window: Window,
                         seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = stream(seed, PRICES)
    per_product = rng.poisson(1.2, len(list_cents))
    product_idx = np.repeat(np.arange(len(list_cents)), per_product)
    seconds = rng.integers(0, window.days * 86_400, len(product_idx))
    # Sorted and unique: (product_id, changed_ts) is the table's primary key.
    keys = sorted_unique(product_idx * _KEY_SPAN + seconds)
    product_idx, seconds = keys // _KEY_SPAN, keys % _KEY_SPAN
    # Each change moves the price a few percent from the previous one: a cumulative sum of log
    # steps, restarted at every product.
    steps = rng.normal(0, 0.08, len(keys))
    csum = np.cumsum(steps)
    first = np.r_[True, product_idx[1:] != product_idx[:-1]] if len(keys) else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0)) if len(keys) else first
    level = csum - csum[start] + steps[start]
    new_cents = np.maximum(99, np.rint(list_cents[product_idx] * np.exp(level) / 10) * 10 - 1)
    new_cents = new_cents.astype(np.int64)
    old_cents = np.where(first, list_cents[product_idx], np.r_[0, new_cents[:-1]])
    table = pa.table({
        "product_id": (product_idx + 1).astype(np.int64),
        "changed_ts": iso_text(window.start_us + seconds * US_PER_SECOND),
        "old_price": money_text(old_cents),
        "new_price": money_text(new_cents),
    })
    with CsvSink(path, table.schema) as sink:
        sink.write(table)
    return keys, new_cents, len(keys)


@dataclass
class Customers:
    """Customers drawn before the orders; written after them, once first orders are known."""

    country: np.ndarray
    order_cdf: np.ndarray
    signup_day: np.ndarray
    seed: int

    @property
    def size(self) -> int:
        return len(self.country)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Customer indices for ``n`` orders: a minority of loyal customers order most."""
        return np.minimum(np.searchsorted(self.order_cdf, rng.random(n)), self.size - 1)

    def saw_order(self, customer_idx: np.ndarray, day: np.ndarray) -> None:
        """Nobody orders before signing up: pull signup back to the first order if needed."""
        np.minimum.at(self.signup_day, customer_idx, day)


def draw_customers(n: int, window: Window, seed: int) -> Customers:
    rng = stream(seed, CUSTOMERS)
    country = rng.choice(len(COUNTRIES), n, p=COUNTRY_P)
    weights = rng.lognormal(0, 0.8, n)
    signup = window.start_day + window.days - rng.integers(1, 3 * 365, n)
    return Customers(country, np.cumsum(weights) / weights.sum(), signup, seed)


def write_customers(path: Path, customers: Customers, planted: Planted) -> int:
    rng = stream(customers.seed, CUSTOMERS, 1)
    n = customers.size
    ids = np.arange(1, n + 1, dtype=np.int64)
    first, last = rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n)
    # Some people type their e-mail with capitals; staging lower-cases it.
    shout = rng.random(n) < 0.03
    first_email = pick([f.lower() for f in FIRST] + FIRST, first + len(FIRST) * shout)
    user = concat(first_email, ".", pick([s.lower() for s in LAST], last),
                  pc.cast(pa.array(ids), pa.string()))
    domain = pick(DOMAINS, rng.integers(0, len(DOMAINS), n))
    email = concat(user, "@", domain)
    bad = np.sort(rng.choice(n, n_planted(0.002, n), replace=False))
    kinds = np.arange(len(bad)) % 4
    bad_user, bad_domain = user.take(pa.array(bad)), domain.take(pa.array(bad))
    # Four ways to get an address wrong: no @, no domain, two @, and the @ spelled out.
    variants = [concat(bad_user, bad_domain), concat(bad_user, "@"),
                concat(bad_user, "@@", bad_domain), concat(bad_user, " at ", bad_domain)]
    malformed = variants[3]
    for kind in (2, 1, 0):
        malformed = pc.if_else(pa.array(kinds == kind), variants[kind], malformed)
    mask = np.zeros(n, bool)
    mask[bad] = True
    email = pc.replace_with_mask(email, pa.array(mask), malformed)
    planted.add("malformed_emails", "customers.csv",
                "customer e-mails that are not name@domain.tld", customer_ids=ids[bad])
    full_name = concat(pick(FIRST, first), " ", pick(LAST, last))
    padded = rng.random(n) < 0.01
    full_name = pc.if_else(pa.array(padded), concat("  ", full_name, " "), full_name)
    segment = rng.choice(len(SEGMENTS), n, p=[0.8, 0.15, 0.05])
    table = pa.table({
        "customer_id": ids,
        "email": email,
        "full_name": full_name,
        "country": pick(COUNTRIES, customers.country),
        "signup_date": dates(customers.signup_day),
        "segment": pick(SEGMENTS, segment),
    })
    with CsvSink(path, table.schema) as sink:
        sink.write(table)
    return n
