"""An empty batch is judged by the contract's dataset rules, not crashed on (SUM over nothing is NULL)."""

from __future__ import annotations

from headwater.platform import Platform


def test_empty_partition_is_judged_by_the_dataset_rules(shop_root, clock):
    platform = Platform(shop_root, clock=clock)
    assert platform.run().ok
    step = platform.run(["stg_orders"], partition="1999-01-01").steps[0]
    # the shop's contract expects at least one row: the empty batch is blocked, with the reason
    assert step.status.value == "failed"
    assert "row_count: 0 rows" in step.error
    assert platform.lakehouse.current("stg_orders").summary.get("headwater.partition") != "1999-01-01"
