"""Replay moves quarantined rows that now pass into the table exactly once, even after a crash."""

from __future__ import annotations

import pytest

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
