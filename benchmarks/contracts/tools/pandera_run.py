"""pandera (polars backend) with the benchmark's 15 rules; prints {"seconds", "counts"} as JSON."""

import json
import sys
import time

import pandera.polars as pa
import polars as pl

RULE = {("order_id", "not_nullable"): "order_id.not_null", ("order_id", "field_uniqueness"): "order_id.unique",
        ("customer_id", "not_nullable"): "customer_id.not_null", ("email", "str_matches"): "email_format",
        ("status", "isin"): "status.accepted_values", ("amount", "greater_than_or_equal_to"): "amount_not_negative",
        ("amount", "less_than_or_equal_to"): "amount.max", ("quantity", "in_range"): "quantity.range",
        ("discount", "in_range"): "discount.range", ("country", "str_length"): "country.length",
        ("currency", "str_matches"): "currency.pattern", ("currency", "isin"): "currency.accepted_values",
        ("created_at", "not_nullable"): "created_at.not_null"}

schema = pa.DataFrameSchema({
    "order_id": pa.Column(pl.Int64, nullable=False, unique=True),
    "customer_id": pa.Column(pl.Int64, nullable=False),
    "email": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[^@ ]+@[^@ ]+\.[a-z]+$"), nullable=True),
    "status": pa.Column(pl.Utf8, pa.Check.isin(["placed", "paid", "shipped", "delivered", "cancelled"]), nullable=True),
    "amount": pa.Column(pl.Float64, [pa.Check.ge(0), pa.Check.le(100000)], nullable=True),
    "quantity": pa.Column(pl.Int32, pa.Check.in_range(1, 1000), nullable=True),
    "discount": pa.Column(pl.Float64, pa.Check.in_range(0, 1), nullable=True),
    "country": pa.Column(pl.Utf8, pa.Check.str_length(2, 2), nullable=True),
    "currency": pa.Column(pl.Utf8, [pa.Check.str_matches(r"^[A-Z]{3}$"),
                                    pa.Check.isin(["EUR", "USD", "GBP", "CHF", "SEK"])], nullable=True),
    "created_at": pa.Column(pl.Datetime("us", "UTC"), nullable=False),
    "updated_at": pa.Column(pl.Datetime("us", "UTC"), nullable=True),
}, checks=[pa.Check(lambda d: d.lazyframe.select(pl.col("updated_at") >= pl.col("created_at")),
                    name="updated_after_created")])

path = sys.argv[1]
started = time.perf_counter()
df = pl.read_parquet(path)
counts = {}
try:
    schema.validate(df, lazy=True)
except pa.errors.SchemaErrors as exc:
    fc = exc.failure_cases
    for row in fc.group_by(["column", "check"]).len().iter_rows(named=True):
        check = str(row["check"]).split("(")[0]
        rule = RULE.get((row["column"], check)) or ("updated_after_created" if "updated_after" in str(row["check"]) else
                                                     f"{row['column']}:{row['check']}")
        counts[rule] = counts.get(rule, 0) + row["len"]
seconds = time.perf_counter() - started
rows = df.height
counts.setdefault("row_count", 0 if 1 <= rows <= 100_000_000 else 1)
for rule in RULE.values():
    counts.setdefault(rule, 0)
counts.setdefault("updated_after_created", 0)
print(json.dumps({"seconds": seconds, "counts": counts,
                  "note": "pandera reports every occurrence of a duplicated key (headwater counts the extra ones)"}))
