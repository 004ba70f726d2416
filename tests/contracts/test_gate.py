"""The gate in the batch lane: every rule type and severity, quarantine, block, conservation."""

from __future__ import annotations

import pytest

from headwater.platform import Platform
from tests.contracts.helpers import (
    BAD,
    CONTRACT,
    GOOD,
    PLANTED,
    order,
    set_contract,
    shop,
    write_orders,
)


def _step(platform, product):
    return platform.ledger.steps(product=product, status="success")[0]


def test_every_planted_row_is_quarantined_with_its_rule(shop_platform):
    result = shop_platform.run()
    assert result.status == "success", [s.error for s in result.steps]
    rows = shop_platform.contracts.quarantine_rows("stg_orders", limit=None)
    by_rule: dict[str, int] = {}
    for rules in rows.column("_hw_rules").to_pylist():
        for rule in rules:
            by_rule[rule] = by_rule.get(rule, 0) + 1
    assert {k: v for k, v in by_rule.items() if k in PLANTED} == PLANTED
    assert rows.num_rows == sum(PLANTED.values())
    # the duplicate keeps its first occurrence in the table, the second goes to quarantine
    table = shop_platform.query("SELECT order_id FROM stg_orders ORDER BY order_id").column(0).to_pylist()
    assert table.count(3) == 1 and None not in table and 24 not in table
    # warn-only failures are recorded but the row is written
    assert 26 in table
    reasons = dict(zip(rows.column("order_id").to_pylist(), rows.column("_hw_reasons").to_pylist()))
    assert reasons[24] == ["expected amount >= 0"]
    assert reasons[21] == ["(customer_id) not found in stg_customers(customer_id)"]
    for col in ("_hw_run_id", "_hw_step_id", "_hw_contract_version"):
        assert set(rows.column(col).to_pylist()) == {result.run_id if col == "_hw_run_id" else
                                                     _step(shop_platform, "stg_orders").step_id
                                                     if col == "_hw_step_id" else "1.0.0"}


def test_conservation_is_recorded_and_balanced(shop_platform):
    shop_platform.run()
    details = _step(shop_platform, "stg_orders").details
    cons = details["conservation"]
    assert cons == {"rows_in": len(GOOD) + len(BAD) + 3, "transform_out": len(GOOD) + len(BAD) - 1,
                    "filtered_by_transform": 3 + 1, "quarantined": 7, "written": len(GOOD) + len(BAD) - 1 - 7,
                    "balanced": True, "gate_balanced": True, "commit_balanced": True}
    exposed = shop_platform.contracts.conservation("stg_orders")
    assert exposed[0]["balanced"] and exposed[0]["quarantined"] == 7
    warned = {c["id"]: c for c in details["contract"]["checks"]}
    assert warned["email.length"]["status"] == "warned" and warned["email.length"]["failed_rows"] == 1


def test_block_severity_fails_the_run_and_commits_nothing(shop_root, clock):
    set_contract(shop_root, CONTRACT.replace("id: amount_not_negative}", "id: amount_not_negative, severity: block}"))
    platform = Platform(shop_root, clock=clock)
    result = platform.run()
    step = next(s for s in result.steps if s.product == "stg_orders")
    assert step.status.value == "failed"
    assert "amount_not_negative" in step.error and "1 rows" in step.error
    assert not platform.lakehouse.exists("stg_orders")
    assert not platform.lakehouse.exists("stg_orders__quarantine")
    details = platform.ledger.step(step.step_id).details
    assert {c["id"]: c["failed_rows"] for c in details["contract"]["checks"]}["amount_not_negative"] == 1
    assert details["conservation"]["blocked"] == details["conservation"]["transform_out"] > 0


@pytest.mark.parametrize("rule,expect", [
    ("{row_count: {min: 100}}", "row_count"),
    ("{freshness: {column: created_at, within: 1h}}", "freshness"),
    ("{sql: 'SELECT count(*) FROM batch WHERE amount > 5'}", "sql"),
])
def test_dataset_rules_block_by_default(shop_root, clock, rule, expect):
    set_contract(shop_root, CONTRACT.replace("rules:\n", f"rules:\n  - {rule}\n"))
    step = next(s for s in Platform(shop_root, clock=clock).run().steps if s.product == "stg_orders")
    assert step.status.value == "failed" and expect in step.error


def test_dataset_rule_as_warning_only_records(shop_root, clock):
    set_contract(shop_root, CONTRACT.replace("rules:\n", "rules:\n  - {id: too_few, row_count: {min: 100}, severity: warn}\n"))
    platform = Platform(shop_root, clock=clock)
    assert platform.run().status == "success"
    checks = {c["id"]: c for c in _step(platform, "stg_orders").details["contract"]["checks"]}
    assert checks["too_few"]["status"] == "warned"


def test_schema_mismatch_blocks(shop_root, clock):
    set_contract(shop_root, CONTRACT.replace("{name: order_id, type: long", "{name: order_id, type: string"))
    step = next(s for s in Platform(shop_root, clock=clock).run().steps if s.product == "stg_orders")
    assert step.status.value == "failed" and "order_id.schema" in step.error


def test_missing_referenced_table_blocks_rather_than_passing_rows(shop_root, clock):
    set_contract(shop_root, CONTRACT.replace("checks: [{accepted_values: [placed, shipped, cancelled]}]",
                                             "checks: [{references: order_totals.status}]"))
    platform = Platform(shop_root, clock=clock)
    result = platform.run(["stg_customers", "stg_orders"])  # order_totals was never built
    assert result.status == "failed"
    assert "status.references" in result.steps[-1].error and "no table" in result.steps[-1].error


def test_rerun_does_not_duplicate_quarantine_rows(shop_platform):
    shop_platform.run()
    shop_platform.run()
    shop_platform.run(["stg_orders"], partition="2026-01-02")
    rows = shop_platform.contracts.quarantine_rows("stg_orders", limit=None)
    assert rows.num_rows == 7
    assert len(set(rows.column("_hw_id").to_pylist())) == 7


def test_crash_between_quarantine_and_main_write_leaves_one_copy(shop_root, clock, monkeypatch):
    from headwater.errors import StorageError
    from headwater.storage.lakehouse import Lakehouse

    platform = Platform(shop_root, clock=clock)
    platform.run(["stg_customers"])
    real = Lakehouse.write

    def crash(self, name, *a, **k):
        if name == "stg_orders":
            raise StorageError("disk full", fix="")
        return real(self, name, *a, **k)

    monkeypatch.setattr(Lakehouse, "write", crash)
    assert Platform(shop_root, clock=clock).run(["stg_orders"]).status == "failed"
    monkeypatch.setattr(Lakehouse, "write", real)
    first = Platform(shop_root, clock=clock).contracts.quarantine_rows("stg_orders", limit=None)
    assert first.num_rows == 7  # the quarantine commit happened before the crash
    again = Platform(shop_root, clock=clock)
    retry = again.run(["stg_orders"])
    assert retry.status == "success"
    rows = again.contracts.quarantine_rows("stg_orders", limit=None)
    assert rows.num_rows == 7
    assert set(rows.column("_hw_run_id").to_pylist()) == {retry.run_id}


def test_product_without_contract_passes_through(tmp_path, clock):
    root = shop(tmp_path / "s", contract=None)
    platform = Platform(root, clock=clock)
    assert platform.run().status == "success"
    assert not platform.lakehouse.exists("stg_orders__quarantine")
    assert _step(platform, "stg_orders").details["conservation"]["quarantined"] == 0


def test_samples_mask_pii_columns(shop_platform):
    shop_platform.run()
    run = shop_platform.contracts.check("stg_orders")
    fmt = next(r for r in run.results if r.check.id == "email.length")
    assert fmt.failed_rows == 1 and fmt.samples == [{"order_id": 26, "email": "***"}]


def test_duplicate_samples_of_a_string_key_mask_pii_columns(shop_root, clock):
    from tests.contracts.helpers import CONTRACT, GOOD, order, set_contract, write_orders

    set_contract(shop_root, CONTRACT + "  - {unique: [email, status], id: email_status_unique, severity: warn}\n")
    write_orders(shop_root, [*GOOD, order(30, email="user1@shop.com")])  # a second order, same e-mail
    platform = Platform(shop_root, clock=clock)
    platform.run()
    run = platform.contracts.check("stg_orders")
    dup = next(r for r in run.results if r.check.id == "email_status_unique")
    assert dup.failed_rows == 1 and dup.samples == [{"email": "***", "status": "placed", "occurrences": 2}]


def test_contract_check_reports_each_rule_on_the_table(shop_platform):
    shop_platform.run()
    write_orders(shop_platform.root, GOOD + [order(3, day=1)])
    run = shop_platform.contracts.check("stg_orders")
    statuses = {r.check.id: r.status.value for r in run.results}
    assert statuses["primary_key.unique"] == "passed"  # the table holds the gated data
    assert statuses["email.length"] == "warned"
    assert run.passed and run.rows == len(GOOD) + len(BAD) - 1 - 7


def test_gate_with_source_positions_as_streaming_and_cdc_lanes_call_it(shop_platform):
    """Same position twice (a retried micro-batch): one copy; a new position: added, not replaced."""
    import pyarrow as pa

    from tests.contracts.helpers import schema

    shop_platform.run(["stg_customers"])
    product = shop_platform.project.product("stg_orders")
    rows = [order(1), order(2, amount="-1.00"), order(3, status="lost")]
    for r in rows:
        r["order_date"] = r["created_at"].date()
        r["country"] = "DE"
    batch = pa.Table.from_pylist(rows, schema=schema().append(pa.field("order_date", pa.date32()))
                                 .append(pa.field("country", pa.string())))
    gate = shop_platform.gate
    first = gate.apply(product, batch, run_id="r1", step_id="s1", source_position="offset=0-2")
    assert first.passed.num_rows == 1 and first.quarantined.num_rows == 2 and not first.blocked
    gate.apply(product, batch, run_id="r2", step_id="s2", source_position="offset=0-2")
    q = shop_platform.contracts.quarantine_rows("stg_orders", limit=None)
    assert q.num_rows == 2 and set(q.column("_hw_run_id").to_pylist()) == {"r2"}
    gate.apply(product, batch, run_id="r3", step_id="s3", source_position="offset=3-5")
    q = shop_platform.contracts.quarantine_rows("stg_orders", limit=None)
    assert q.num_rows == 4
    assert sorted(set(q.column("_hw_source_position").to_pylist())) == ["offset=0-2", "offset=3-5"]


@pytest.mark.parametrize("path", ["headwater", "pyiceberg"])
def test_a_partition_whose_rows_are_all_quarantined_is_emptied_not_left_stale(shop_root, clock, monkeypatch, path):
    from tests.contracts.helpers import GOOD, order, write_orders

    if path == "pyiceberg":  # the general path, for layouts storage/overwrite.py does not cover
        monkeypatch.setattr("headwater.storage.lakehouse.overwrite_partitions", lambda *a, **k: False)
    write_orders(shop_root, GOOD)
    platform = Platform(shop_root, clock=clock)
    assert platform.run().ok
    days = "SELECT order_date, count(*) AS n FROM stg_orders GROUP BY 1 ORDER BY 1"
    assert [r["n"] for r in platform.query(days).to_pylist()] == [5, 5]
    # the next delivery: day 0 as before, every order of day 1 now has a negative amount
    write_orders(shop_root, [o for o in GOOD if o["created_at"].day == 1] +
                 [order(o["order_id"], customer=o["customer_id"], amount="-1.00", day=1, minutes=i)
                  for i, o in enumerate(o for o in GOOD if o["created_at"].day == 2)])
    step = platform.run(["stg_orders"]).steps[0]
    assert step.status.value == "success" and step.rows_written == 5
    rows = platform.query(days).to_pylist()
    assert [(str(r["order_date"]), r["n"]) for r in rows] == [("2026-01-01", 5)]  # day 2's old rows are gone
    from headwater.contracts import quarantine

    rules = quarantine.read(platform.lakehouse, "stg_orders").column("_hw_rules").to_pylist()
    assert len(rules) == 5 and all(r == ["amount_not_negative"] for r in rules)


def test_a_references_rule_that_cannot_be_evaluated_blocks_instead_of_being_skipped(shop_root, clock):
    from tests.contracts.helpers import CONTRACT, set_contract

    for rule, why in [("{references: stg_customers}", "names no column"),
                      ("{references: {product: stg_customers, columns: [customer_id], key: [nope]}}",
                       "has no column nope")]:
        set_contract(shop_root, CONTRACT + f"  - {rule}\n")
        step = Platform(shop_root, clock=clock).run(["stg_customers", "stg_orders"]).steps[-1]
        assert step.status.value == "failed" and why in step.error, step.error


def test_the_quarantine_table_is_queryable_by_name(shop_platform):
    """Its partition values hold '=' (order_date=2026-01-01), which the file paths keep encoded."""
    shop_platform.run()
    rows = shop_platform.query("SELECT _hw_batch, count(*) AS n FROM stg_orders__quarantine GROUP BY 1 ORDER BY 1")
    assert sum(rows.column("n").to_pylist()) == 7
    assert all(b.startswith("order_date=") for b in rows.column("_hw_batch").to_pylist())
