"""A table of malformed projects: each must give a clear, located error and never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from headwater.errors import SpecError, SpecErrors
from headwater.spec.loader import load_project
from tests.projects import mini_project

PRODUCT = """
products:
  - name: stg_orders
    domain: sales
    owner: {team: sales-data, oncall: oncall@example.com}
    tier: ops
    inputs: [raw_orders]
    transform: {sql: sql/stg_orders.sql}
"""


def _products(text: str) -> dict:
    return {"products/sales.yaml": text, "sql/daily_revenue.sql": None, "sql/stg_customers.sql": None}


# (id, files to override, expected file, expected line, text in message, text in fix)
CASES = [
    ("yaml-syntax", {"headwater.yaml": "name: mini\ntiers: [\n"}, "headwater.yaml", None, "YAML syntax", "indentation"),
    ("project-missing-name", {"headwater.yaml": "description: x\n"}, "headwater.yaml", 1, "'name' is missing", "add 'name"),
    ("project-unknown-key", {"headwater.yaml": "name: mini\nstate_folder: x\n"}, "headwater.yaml", 2,
     "unknown key 'state_folder'", "state_dir"),
    ("project-bad-name", {"headwater.yaml": "name: Mini Shop\n"}, "headwater.yaml", 1, "not a valid name", "lower case"),
    ("tier-bad-duration", {"headwater.yaml": "name: mini\ntiers:\n  gold:\n    freshness: soon\n"
                                             "    completeness: 0.9\n    availability: 0.9\n"},
     "headwater.yaml", 4, "not a duration", "15m"),
    ("tier-out-of-range", {"headwater.yaml": "name: mini\ntiers:\n  gold:\n    freshness: 5m\n"
                                             "    completeness: 1.5\n    availability: 0.9\n"},
     "headwater.yaml", 5, "completeness", "range"),
    ("product-typo-key", _products(PRODUCT.replace("    tier: ops", "    teir: ops")), "products/sales.yaml", 5,
     "unknown key 'teir'", "did you mean 'tier'"),
    ("product-missing-owner", _products(PRODUCT.replace("    owner: {team: sales-data, oncall: oncall@example.com}\n", "")),
     "products/sales.yaml", 2, "'owner' is missing", "add 'owner"),
    ("owner-missing-oncall", _products(PRODUCT.replace(", oncall: oncall@example.com", "")), "products/sales.yaml", 4,
     "'oncall' is missing", "On-call"),
    ("unknown-lane", _products(PRODUCT + "    lane: realtime\n"), "products/sales.yaml", 8, "unknown lane 'realtime'",
     "batch"),
    ("undefined-tier", _products(PRODUCT.replace("tier: ops", "tier: platinum")), "products/sales.yaml", 5,
     "undefined tier 'platinum'", "tiers:"),
    ("missing-input", _products(PRODUCT.replace("[raw_orders]", "[raw_order]")), "products/sales.yaml", 6,
     "'raw_order' is neither a product nor a source", "did you mean 'raw_orders'"),
    ("missing-sql-file", _products(PRODUCT.replace("sql/stg_orders.sql", "sql/nope.sql")), "products/sales.yaml", 7,
     "does not exist", "create sql/nope.sql"),
    ("transform-both", _products(PRODUCT.replace("transform: {sql: sql/stg_orders.sql}",
                                                 "transform: {sql: sql/stg_orders.sql, python: 'x.py:f'}")),
     "products/sales.yaml", 7, "both or neither", "give exactly one"),
    ("batch-without-transform", _products(PRODUCT.replace("    transform: {sql: sql/stg_orders.sql}\n", "")),
     "products/sales.yaml", 2, "needs a transform", "add 'transform"),
    ("duplicate-product", _products(PRODUCT + PRODUCT.replace("products:\n", "")), "products/sales.yaml", 9,
     "declared twice", "unique"),
    ("bad-product-name", _products(PRODUCT.replace("name: stg_orders", "name: Stg-Orders")), "products/sales.yaml", 2,
     "not a valid name", "lower case"),
    ("inputs-not-list", _products(PRODUCT.replace("[raw_orders]", "{a: 1}")), "products/sales.yaml", 6,
     "must be a list", "YAML list"),
    ("products-not-list", {"products/sales.yaml": "products:\n  name: x\n"}, "products/sales.yaml", 1,
     "must be a list", "- name"),
    ("unknown-top-level", {"products/extra.yaml": "models: []\n"}, "products/extra.yaml", 1,
     "unknown top-level key 'models'", "products:"),
    ("source-bad-format", {"sources/raw.yaml": "sources:\n  - name: raw_orders\n    format: xlsx\n"
                                               "    path: data/orders.parquet\n"},
     "sources/raw.yaml", 3, "'xlsx'", "csv"),
    ("sql-undeclared-product", {"sql/daily_revenue.sql": "SELECT * FROM stg_orders JOIN stg_customers USING (customer_id) "
                                                          "JOIN raw_orders USING (order_id)\n"},
     "products/sales.yaml", None, "reads 'raw_orders', which is not among the inputs", "add 'raw_orders' to inputs"),
    ("sql-unknown-table", {"sql/stg_customers.sql": "SELECT * FROM raw_customers JOIN customer_segments USING (customer_id)\n"},
     "sql/stg_customers.sql", 1, "'customer_segments', which is not a declared", "declare it"),
    ("sql-syntax", {"sql/stg_customers.sql": "SELECT customer_id FROM raw_customers WHERE (\n"}, "sql/stg_customers.sql", 1,
     "does not parse", "fix the SQL"),
    ("sql-reads-file", {"sql/stg_customers.sql": "SELECT * FROM read_csv('data/customers.csv')\n"},
     "products/sales.yaml", None, "reads files directly", "declare the file as a source"),
    ("sql-two-statements", {"sql/stg_customers.sql": "SELECT 1 FROM raw_customers; SELECT 2 FROM raw_customers\n"},
     "products/sales.yaml", None, "exactly one SELECT", "one query per .sql file"),
    ("cycle", {"products/loop.yaml": """
        products:
          - name: a_loop
            domain: x
            owner: {team: t, oncall: o}
            tier: ops
            inputs: [b_loop]
            transform: {sql: sql/a.sql}
          - name: b_loop
            domain: x
            owner: {team: t, oncall: o}
            tier: ops
            inputs: [a_loop]
            transform: {sql: sql/b.sql}
        """, "sql/a.sql": "SELECT * FROM b_loop\n", "sql/b.sql": "SELECT * FROM a_loop\n"},
     "products/loop.yaml", None, "cycle", "remove one of these inputs"),
    ("missing-contract", _products(PRODUCT + "    contract: contracts/orders.yaml\n"), "products/sales.yaml", 8,
     "contract file 'contracts/orders.yaml' does not exist", "create contracts/orders.yaml"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_project_gives_a_located_error_with_a_fix(tmp_path, case):
    _, files, file, line, message, fix = case
    root = mini_project(tmp_path / "p", **files)
    with pytest.raises(SpecErrors) as info:
        load_project(root)
    matching = [e for e in info.value.errors if message in e.message]
    assert matching, f"no error mentions {message!r}: {[str(e) for e in info.value.errors]}"
    err = matching[0]
    assert err.location.file == file
    if line is not None:
        assert err.location.line == line, str(err)
    assert err.fix and fix in err.fix, str(err)


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_every_error_is_reported_at_once(tmp_path):
    root = mini_project(tmp_path / "p", **_products(
        PRODUCT.replace("tier: ops", "tier: platinum").replace("[raw_orders]", "[raw_order]")))
    with pytest.raises(SpecErrors) as info:
        load_project(root)
    assert len(info.value.errors) >= 2


def test_no_project_file_names_the_fix(tmp_path):
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    assert "headwater init" in info.value.fix


def test_cli_prints_error_without_traceback(tmp_path):
    root = mini_project(tmp_path / "p", **_products(PRODUCT.replace("    tier: ops", "    teir: ops")))
    proc = subprocess.run([sys.executable, "-m", "headwater.cli", "validate", "--project", str(root)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "products/sales.yaml:5" in proc.stderr and "did you mean 'tier'" in proc.stderr


def test_cli_json_error_is_machine_readable(tmp_path):
    import json

    root = mini_project(tmp_path / "p", **_products(PRODUCT.replace("tier: ops", "tier: platinum")))
    proc = subprocess.run([sys.executable, "-m", "headwater.cli", "validate", "--project", str(root), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)
    assert payload["errors"][0]["file"] == "products/sales.yaml"
    assert payload["errors"][0]["key"].endswith("tier")


def test_valid_project_loads(mini):
    project = load_project(mini)
    assert project.topological_order() == ["stg_customers", "stg_orders", "daily_revenue"]
