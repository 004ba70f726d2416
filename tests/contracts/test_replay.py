"""Replay moves quarantined rows that now pass into the table exactly once, even after a crash."""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.errors import NotFoundError
from headwater.platform import Platform
from tests.contracts.helpers import CONTRACT, set_contract

FIXED = CONTRACT.replace("checks: [{accepted_values: [placed, shipped, cancelled]}]",
                         "checks: [{accepted_values: [placed, shipped, cancelled, lost]}]") \
                .replace("pattern: '", "pattern: '.*|")


def _orders(platform):
    return sorted(platform.query("SELECT order_id FROM stg_orders").column(0).to_pylist(),
                  key=lambda v: (v is None, v))


def test_replay_moves_fixed_rows_once(shop_root, clock):
    platform = Platform(shop_root, clock=clock)
    platform.run()
    before = _orders(platform)
    set_contract(shop_root, FIXED)
    platform = Platform(shop_root, clock=clock)
    result = platform.contracts.replay("stg_orders")
    assert (result.considered, result.moved, result.still_failing) == (7, 2, 5)
    after = _orders(platform)
    assert sorted(set(after) - set(before)) == [22, 23] and len(after) == len(before) + 2
    left = platform.contracts.quarantine_rows("stg_orders", limit=None)
    assert left.num_rows == 5 and 22 not in left.column("order_id").to_pylist()
    again = platform.contracts.replay("stg_orders")
    assert again.moved == 0 and _orders(platform) == after


def test_replayed_duplicate_of_a_row_in_the_table_stays_quarantined(shop_root, clock):
    platform = Platform(shop_root, clock=clock)
    platform.run()
    result = platform.contracts.replay("stg_orders")
    assert result.moved == 0 and result.still_failing == 7
    assert _orders(platform).count(3) == 1


@pytest.mark.parametrize("crash_after", ["mark", "write"])
def test_replay_after_a_crash_finishes_exactly_once(shop_root, clock, crash_after):
    platform = Platform(shop_root, clock=clock)
    platform.run()
    before = _orders(platform)
    set_contract(shop_root, FIXED)
    platform = Platform(shop_root, clock=clock)
    platform.contracts.replay("stg_orders", fail_after=crash_after)
    resumed = Platform(shop_root, clock=clock).contracts.replay("stg_orders")
    assert resumed.resumed and resumed.moved == 2
    after = _orders(platform)
    assert len(after) == len(before) + 2 and after.count(22) == 1 and after.count(23) == 1
    assert platform.contracts.quarantine_rows("stg_orders", limit=None).num_rows == 5


def test_replay_selected_ids_only(shop_root, clock):
    platform = Platform(shop_root, clock=clock)
    platform.run()
    set_contract(shop_root, FIXED)
    platform = Platform(shop_root, clock=clock)
    rows = platform.contracts.quarantine_rows("stg_orders", limit=None)
    ident = dict(zip(rows.column("order_id").to_pylist(), rows.column("_hw_id").to_pylist()))
    result = platform.contracts.replay("stg_orders", [ident[22]])
    assert result.moved == 1 and 23 not in _orders(platform) and 22 in _orders(platform)


def test_replay_is_judged_by_row_rules_not_by_the_deliverys_row_count(shop_root, clock):
    at_least_ten = "{row_count: {min: 10, max: 1000}}"
    set_contract(shop_root, CONTRACT.replace("{row_count: {min: 1, max: 1000}}", at_least_ten))
    platform = Platform(shop_root, clock=clock)
    assert platform.run().ok
    set_contract(shop_root, FIXED.replace("{row_count: {min: 1, max: 1000}}", at_least_ten))
    result = Platform(shop_root, clock=clock).contracts.replay("stg_orders")  # 7 rows, fewer than 10
    assert result.blocked is None and (result.moved, result.still_failing) == (2, 5)


# 1.1.0: the amount rule now has another id and reason; 22 and 23 pass under FIXED's changes.
RENAMED = "{range: {min: 0, exclusive: true}, id: amount_positive, description: an order costs something}"
NEXT = CONTRACT.replace("version: 1.0.0", "version: 1.1.0") \
               .replace("{range: {min: 0}, id: amount_not_negative}", RENAMED)
NEXT_FIXED = FIXED.replace("version: 1.0.0", "version: 1.1.0") \
                  .replace("{range: {min: 0}, id: amount_not_negative}", RENAMED)
PROVENANCE = ("_hw_batch", "_hw_run_id", "_hw_step_id", "_hw_source_position", "_hw_quarantined_at")


def _by_id(table, columns):
    return {r["_hw_id"]: r for r in table.select(["_hw_id", "order_id", *columns]).to_pylist()}


@pytest.mark.parametrize("contract, crash_after", [(NEXT, None), (NEXT_FIXED, None), (NEXT_FIXED, "mark")],
                         ids=["nothing-moves", "some-move", "crash-after-mark"])
def test_rows_still_failing_are_relabelled_by_the_contract_that_judged_them(shop_root, clock, contract,
                                                                           crash_after):
    platform = Platform(shop_root, clock=clock)
    platform.run()
    before = _by_id(platform.contracts.quarantine_rows("stg_orders", limit=None), PROVENANCE)
    set_contract(shop_root, contract)
    platform = Platform(shop_root, clock=clock)
    platform.contracts.replay("stg_orders", fail_after=crash_after)
    # after a crash the relabelling is already there: it is part of the commit that marks the movers
    left = platform.contracts.quarantine_rows("stg_orders", limit=None)
    if crash_after:
        left = left.filter(pc.is_null(left.column("_hw_replay")))
    after = _by_id(left, (*PROVENANCE, "_hw_rules", "_hw_reasons", "_hw_contract_version"))
    assert len(after) == (7 if contract is NEXT else 5)
    assert {r["_hw_contract_version"] for r in after.values()} == {"1.1.0"}
    assert all({k: r[k] for k in before[i]} == before[i] for i, r in after.items())  # provenance kept
    labels = {r["order_id"]: (r["_hw_rules"], r["_hw_reasons"]) for r in after.values()}
    assert labels[24] == (["amount_positive"], ["an order costs something"])
    assert labels[21] == (["customer_id.references"], ["(customer_id) not found in stg_customers(customer_id)"])
    if crash_after:
        resumed = Platform(shop_root, clock=clock).contracts.replay("stg_orders")
        assert resumed.resumed and resumed.moved == 2
        left = platform.contracts.quarantine_rows("stg_orders", limit=None)
        assert _by_id(left, ("_hw_rules", "_hw_contract_version")) == {
            i: {k: r[k] for k in ("_hw_id", "order_id", "_hw_rules", "_hw_contract_version")}
            for i, r in after.items()}


def test_relabelling_commits_nothing_when_the_labels_are_already_current(shop_root, clock):
    platform = Platform(shop_root, clock=clock)
    platform.run()
    set_contract(shop_root, NEXT)
    platform = Platform(shop_root, clock=clock)
    first = platform.contracts.replay("stg_orders")
    count = len(platform.lakehouse.snapshots("stg_orders__quarantine"))
    again = platform.contracts.replay("stg_orders")
    assert (first.moved, first.still_failing) == (again.moved, again.still_failing) == (0, 7)
    assert len(platform.lakehouse.snapshots("stg_orders__quarantine")) == count


def test_failures_count_only_rules_that_keep_rows_in_quarantine(shop_root, clock):
    Platform(shop_root, clock=clock).run()
    set_contract(shop_root, FIXED.replace("{length: {max: 40}, severity: warn}", "{length: {max: 5}, severity: warn}"))
    result = Platform(shop_root, clock=clock).contracts.replay("stg_orders")
    assert (result.moved, result.still_failing) == (2, 5)  # the warn rule hit all 7 and held none back
    assert result.failures == {"primary_key.not_null": 1, "primary_key.unique": 1, "customer_id.references": 1,
                               "amount_not_negative": 1, "updated_after_created": 1}
    assert result.warned["email.length"] == 7 and "email.length" not in result.failures
    left = Platform(shop_root, clock=clock).contracts.quarantine_rows("stg_orders", limit=None)
    assert all("email.length" in rules for rules in left.column("_hw_rules").to_pylist())  # labelled as the gate does


def test_cli_json_reports_failures_and_warnings_apart(shop_root, clock):
    Platform(shop_root, clock=clock).run()
    set_contract(shop_root, CONTRACT.replace("{length: {max: 40}, severity: warn}", "{length: {max: 5}, severity: warn}"))
    res = CliRunner().invoke(app, ["quarantine", "replay", "stg_orders", "--project", str(shop_root), "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and (out["moved"], out["still_failing"]) == (0, 7)
    assert out["warned"]["email.length"] == 7 and "email.length" not in out["failures"]
    assert sum(out["failures"].values()) == 7  # each planted row breaks exactly one quarantine rule


def test_replay_without_a_contract_says_how_to_bring_it_back_and_keeps_the_rows(shop_root, clock):
    platform = Platform(shop_root, clock=clock)
    platform.run()
    (shop_root / "contracts" / "stg_orders.yaml").unlink()
    platform = Platform(shop_root, clock=clock)
    with pytest.raises(NotFoundError) as caught:
        platform.contracts.replay("stg_orders")
    assert "no contract" in str(caught.value) and "contracts/stg_orders.yaml" in caught.value.fix
    assert platform.contracts.quarantine_rows("stg_orders", limit=None).num_rows == 7
