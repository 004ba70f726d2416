"""The example shop's orders, payments and returns arrive through CDC (generated Debezium logs)."""

from __future__ import annotations

from datetime import date

from headwater.examples import scaffold
from headwater.examples.ecommerce._cdc import write_change_logs
from headwater.lanes.cdc.demo import stage
from headwater.platform import Platform


def test_demo_stage_mirrors_equal_the_exports(tmp_path, monkeypatch):
    monkeypatch.delenv("HEADWATER_DEMO_PG_URL", raising=False)
    scaffold("ecommerce", tmp_path / "shop", scale=0.005, end_date=date(2026, 11, 20))
    out = stage(Platform(tmp_path / "shop"), None)
    assert out["source"] == "debezium"
    for name, result in out["products"].items():
        assert result["status"] == "success", (name, result["error"])
        assert result["rows_differing_from_source"] == 0, name
        assert result["replayed_changes"] == 0, name
        assert result["changes"] > result["upserts"]  # updates and deletes were applied, not only rows
    assert out["products"]["orders_cdc"]["deletes"] > 0


def test_change_logs_are_deterministic(tmp_path):
    scaffold("ecommerce", tmp_path / "shop", scale=0.005, end_date=date(2026, 11, 20))
    write_change_logs(tmp_path / "shop" / "data", tmp_path / "a")
    write_change_logs(tmp_path / "shop" / "data", tmp_path / "b")
    for name in ("orders", "payments", "returns"):
        assert (tmp_path / "a" / f"{name}.jsonl").read_bytes() == (tmp_path / "b" / f"{name}.jsonl").read_bytes()
