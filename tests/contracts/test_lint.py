"""``contract lint`` catches what ``contract check`` would trip on: file, line, key and the fix.

Each case is a mistake a user review found passing lint and then failing the check with a
TypeError or a DuckDB Binder/Conversion error.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.errors import SpecErrors
from tests.contracts.helpers import CONTRACT, set_contract

RUN = CliRunner()
ROW_COUNT = "{row_count: {min: 1, max: 1000}}"
AMOUNT = "{range: {min: 0}, id: amount_not_negative}"

CASES = {  # id: (text replaced, replacement, key of the problem, what the message says)
    "row-count-text": (ROW_COUNT, "{row_count: {min: ten}}", "rules.1.row_count.min", "'ten' is not a count"),
    "row-count-inverted": (ROW_COUNT, "{row_count: {min: 10, max: 1}}", "rules.1.row_count", "no count is"),
    "range-text-on-number": (AMOUNT, "{range: {min: zero}, id: amount_not_negative}",
                             "columns.4.checks.0.range.min", "'zero' is not a number, and amount is decimal(10,2)"),
    "range-inverted": (AMOUNT, "{range: {min: 10, max: 0}, id: amount_not_negative}",
                       "columns.4.checks.0.range", "no value is >= 10 and <= 0"),
    "range-date-on-number": (AMOUNT, "{range: {min: 2025-01-01}, id: amount_not_negative}",
                             "columns.4.checks.0.range.min", "'2025-01-01' is not a number"),
    "freshness-on-string": ("{freshness: {column: created_at, within: 30d}}",
                            "{freshness: {column: status, within: 30d}}", "rules.2.freshness.column",
                            "not a date or timestamp column"),
    "freshness-undeclared": ("{freshness: {column: created_at, within: 30d}}",
                             "{freshness: {column: created, within: 30d}}", "rules.2.freshness.column",
                             "'created' is not a column"),
    "unique-undeclared": (ROW_COUNT, "{unique: [order_id, nope]}", "rules.1.unique", "'nope' is not a column"),
    "references-without-columns": (ROW_COUNT, "{references: stg_customers}", "rules.1.references",
                                   "would check nothing"),
    "table-level-range": (ROW_COUNT, "{range: {min: 0}}", "rules.1.range", "about one column"),
    "length-negative": ("{length: {max: 40}, severity: warn}", "{length: {min: -5}, severity: warn}",
                        "columns.2.checks.1.length.min", "-5 is negative"),
    "accepted-values-empty": ("{accepted_values: [placed, shipped, cancelled]}", "{accepted_values: []}",
                              "columns.3.checks.0.accepted_values", "empty list"),
    "expression-unparsable": ("expression: updated_at >= created_at", "expression: updated_at >= AND created_at",
                              "rules.0.expression", "not valid SQL"),
    "sql-unparsable": (ROW_COUNT, "{sql: 'SELECT count(*) FROM batch WHERE'}", "rules.1.sql", "not valid SQL"),
    "id-duplicated": (AMOUNT, "{range: {min: 0}, id: email_format}", "columns.4.checks.0.id",
                      "'email_format' is already the id of the rule at columns.2.checks.0"),
    "id-of-a-schema-check": (AMOUNT, "{range: {min: 0}, id: amount.schema}", "columns.4.checks.0.id",
                             "the schema check of amount"),
    "version-number": ("version: 1.0.0", "version: 1.0", "version", "is a number to YAML"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_lint_rejects_what_check_would_trip_on(shop_root, case):
    old, new, key, says = CASES[case]
    assert old in CONTRACT
    set_contract(shop_root, CONTRACT.replace(old, new, 1))
    path = shop_root / "contracts/stg_orders.yaml"
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if new.split("\n")[0] in text)
    res = RUN.invoke(app, ["contract", "lint", str(path), "--json"])
    report = json.loads(res.stdout)
    assert res.exit_code == 1 and not report["valid"] and report["format"] == "headwater"
    [problem] = report["problems"]
    assert problem.startswith(f"stg_orders.yaml:{line}: {key}: ") and says in problem and "\n  fix: " in problem
    # and check stops at the same place, before any query
    res = RUN.invoke(app, ["contract", "check", "stg_orders", "--project", str(shop_root)])
    assert res.exit_code == 1 and isinstance(res.exception, SpecErrors)
    assert res.exception.errors[0].location.key == key


def test_lint_accepts_unquoted_dates_and_timestamps_as_range_bounds(shop_root):
    set_contract(shop_root, CONTRACT.replace(
        "{name: order_date, type: date}",
        "{name: order_date, type: date, checks: [{range: {min: 2025-01-01, max: 2030-12-31}}]}").replace(
        "{name: created_at, type: timestamptz}",
        "{name: created_at, type: timestamptz, checks: [{range: {min: 2025-01-01T00:00:00Z}}]}"))
    res = RUN.invoke(app, ["contract", "lint", str(shop_root / "contracts/stg_orders.yaml"), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["valid"], res.stdout
