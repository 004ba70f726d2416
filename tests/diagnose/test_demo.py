"""The demo stage: a genuinely late supplier feed in the example project's run history, diagnosed."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_the_demo_ends_with_the_late_supplier_feed_diagnosed(tmp_path):
    from headwater.diagnose.demo import LATE_AT, TARGET, stage
    from headwater.examples import scaffold
    from headwater.platform import Platform

    root = tmp_path / "shop"
    scaffold(example="ecommerce", target=root, scale=0.01, seed=7)
    platform = Platform(root)
    summary = stage(platform, None)
    assert summary["top"]["kind"] == "late_upstream"
    assert summary["top"]["culprit"] == "headwater://ecommerce/raw_suppliers"
    # the same diagnosis, from a fresh platform reading only the ledger and the events
    report = Platform(root).diagnosis.diagnose(TARGET, run=summary["run_id"]).to_dict()
    top = report["findings"][0]
    evidence = top["evidence"]
    assert evidence["expected_arrival"] == "01:00" and evidence["arrived_at"][11:16] == "05:12"
    assert evidence["delivered_by"] == "sftp://procurement/deliver_raw_suppliers"
    assert evidence["owner"]["team"] == "procurement"
    assert [h["job"].rsplit("/", 1)[-1] for h in evidence["critical_path"]] == [
        "dim_products", "stg_suppliers", "deliver_raw_suppliers"]
    # the steps genuinely waited: the product ran after the late landing, hours after its other inputs
    hop = evidence["critical_path"][0]
    assert hop["waiting_for_inputs_seconds"] > 3.5 * 3600
    assert hop["started_at"][11:16] >= "05:12"
    assert evidence["what_if"]["target_ready_at"] < f"{hop['started_at'][:10]}T02:00"
    assert top["impact"]["cost"] == pytest.approx(top["impact"]["delay_seconds"] / 3600 * 1000.0, rel=1e-3)
    assert report["symptom"]["usual_ready_at"] is not None and report["symptom"]["late_by_seconds"] > LATE_AT.seconds / 2
    assert "barrier_wait" in summary["findings"]
