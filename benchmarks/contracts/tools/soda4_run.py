"""Soda Core v4 (contract YAML on DuckDB) with the benchmark's 15 rules; prints {"seconds", "counts"} as JSON.

Soda v4 replaced SodaCL scans with data contracts (``soda_core.contracts.api.verify_contract_locally``).
Each check's failing-row count comes back in ``CheckResult.diagnostic_metric_values``
(``missing_count``, ``invalid_count``, ``duplicate_count``, ``failed_rows_count``, ``row_count``).
Two checks of one type on one column need a ``qualifier``. Regexes run through DuckDB's ``REGEXP_MATCHES`` (a partial match), so they are anchored here.
"""

import json
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import duckdb
from soda_core.contracts.api import verify_contract_locally

CONTRACT = """
dataset: bench/main/orders
checks:
  - row_count:
      name: row_count
      threshold:
        must_be_between: {greater_than_or_equal: 1, less_than_or_equal: 100000000}
  - failed_rows:
      name: updated_after_created
      expression: updated_at < created_at
columns:
  - name: order_id
    checks:
      - missing: {name: order_id.not_null}
      - duplicate: {name: order_id.unique}
  - name: customer_id
    checks:
      - missing: {name: customer_id.not_null}
  - name: email
    checks:
      - invalid:
          name: email_format
          valid_format: {name: email, regex: '^[^@ ]+@[^@ ]+\\.[a-z]+$'}
  - name: status
    checks:
      - invalid:
          name: status.accepted_values
          valid_values: [placed, paid, shipped, delivered, cancelled]
  - name: amount
    checks:
      - invalid: {name: amount_not_negative, valid_min: 0}
      - invalid: {name: amount.max, qualifier: max, valid_max: 100000}
  - name: quantity
    checks:
      - invalid: {name: quantity.range, valid_min: 1, valid_max: 1000}
  - name: discount
    checks:
      - invalid: {name: discount.range, valid_min: 0, valid_max: 1}
  - name: country
    checks:
      - invalid: {name: country.length, valid_length: 2}
  - name: currency
    checks:
      - invalid:
          name: currency.pattern
          valid_format: {name: three capitals, regex: '^[A-Z]{3}$'}
      - invalid:
          name: currency.accepted_values
          qualifier: values
          valid_values: [EUR, USD, GBP, CHF, SEK]
  - name: created_at
    checks:
      - missing: {name: created_at.not_null}
  - name: updated_at
"""
METRIC = {"missing": "missing_count", "invalid": "invalid_count", "duplicate": "duplicate_count",
          "failed_rows": "failed_rows_count"}

path = sys.argv[1]
work = Path(tempfile.mkdtemp(prefix="soda4_"))
db = work / "bench.duckdb"
con = duckdb.connect(str(db))
con.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet('{path}')")
con.close()
(work / "contract.yml").write_text(CONTRACT)
(work / "ds.yml").write_text(f"type: duckdb\nname: bench\nconnection:\n  database: '{db}'\n  schema: main\n")
started = time.perf_counter()
result = verify_contract_locally(data_source_file_path=str(work / "ds.yml"),
                                 contract_file_path=str(work / "contract.yml"))
seconds = time.perf_counter() - started
if result.has_errors:
    raise SystemExit(f"soda v4 reported errors: {result.get_errors_str()}")
counts = {}
for check_result in result.contract_verification_results[0].check_results:
    name = check_result.check.name
    values = check_result.diagnostic_metric_values or {}
    if name == "row_count":
        counts[name] = 0 if check_result.is_passed else 1
        continue
    found = values.get(METRIC.get(check_result.check.type, ""))
    counts[name] = int(found) if found is not None else None
print(json.dumps({"seconds": seconds, "counts": counts,
                  "note": f"soda-core {version('soda-core')} (v4 data contract, verify_contract_locally); "
                          "duplicate_count is rows - missing - count(DISTINCT), the extra rows as headwater counts"}))
