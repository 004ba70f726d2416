"""The demo stage on the example's streaming products: planted duplicates and late events are
found exactly, and the 5-minute availability aggregate is built."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from importlib.resources import files

from headwater.clock import FrozenClock
from headwater.lanes.streaming.demo import stage
from headwater.platform import Platform


def test_demo_stage_streams_both_products_and_builds_the_availability_windows(tmp_path):
    example = files("headwater.examples.ecommerce") / "project" / "products" / "streaming.yaml"
    (tmp_path / "products").mkdir()
    shutil.copy(str(example), tmp_path / "products" / "streaming.yaml")
    (tmp_path / "headwater.yaml").write_text("name: shop\n")
    hw = Platform(tmp_path, clock=FrozenClock(datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)))
    summary = stage(hw, None)
    for name, p in summary["products"].items():
        assert p["status"] == "success", p["error"]
        assert p["duplicates"] == p["planted"]["duplicates"], name
        assert p["late"] == p["planted"]["late"], name
        assert p["written"] == p["planted"]["events"] - p["planted"]["duplicates"] - (
            p["late_quarantined"])
    assert summary["products"]["pdp_availability"]["late_updated"] == 40
    assert summary["availability_windows"] > 0
    rows = hw.query("SELECT count(*) AS n FROM pdp_availability").to_pylist()[0]["n"]
    assert rows == summary["products"]["pdp_availability"]["written"]
