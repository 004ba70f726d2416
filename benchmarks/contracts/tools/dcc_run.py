"""datacontract-cli (`datacontract test`) with the benchmark's 15 rules on the local Parquet file."""

import json
import sys
import tempfile
import time
from pathlib import Path

CONTRACT = """
dataContractSpecification: 1.2.0
id: bench-orders
info: {title: bench orders, version: 1.0.0}
servers:
  local: {type: local, path: "%s", format: parquet}
models:
  orders:
    type: table
    fields:
      order_id: {type: long, required: true, unique: true}
      customer_id: {type: long, required: true}
      email: {type: string, pattern: '^[^@ ]+@[^@ ]+\\\\.[a-z]+$'}
      status: {type: string, enum: [placed, paid, shipped, delivered, cancelled]}
      amount: {type: double, minimum: 0, maximum: 100000}
      quantity: {type: int, minimum: 1, maximum: 1000}
      discount: {type: double, minimum: 0, maximum: 1}
      country: {type: string, minLength: 2, maxLength: 2}
      currency: {type: string, pattern: '^[A-Z]{3}$', enum: [EUR, USD, GBP, CHF, SEK]}
      created_at: {type: timestamp, required: true}
      updated_at: {type: timestamp}
    quality:
      - type: sql
        description: updated_after_created
        query: SELECT count(*) FROM orders WHERE updated_at < created_at
        mustBe: 0
      - type: sql
        description: row_count
        query: SELECT count(*) FROM orders
        mustBeBetween: [1, 100000000]
"""

path = sys.argv[1]
from datacontract.data_contract import DataContract

with tempfile.TemporaryDirectory() as tmp:
    spec = Path(tmp) / "datacontract.yaml"
    spec.write_text(CONTRACT % path)
    started = time.perf_counter()
    run = DataContract(data_contract_file=str(spec), server="local").test()
    seconds = time.perf_counter() - started
checks = [{"name": c.name, "result": str(c.result), "reason": (c.reason or "")[:120]} for c in run.checks]
failed = [c for c in checks if "fail" in c["result"].lower()]
print(json.dumps({"seconds": seconds, "counts": None, "checks": len(checks), "failed": len(failed),
                  "note": f"datacontract-cli {__import__('importlib.metadata').metadata.version('datacontract-cli')}: "
                          f"{len(checks)} checks, {len(failed)} failed (it reports pass/fail, not failing-row counts)"}))
