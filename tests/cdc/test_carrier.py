"""Debezium events carried by the embedded inbox (the same path serves Redis, NATS and Kafka)."""

from __future__ import annotations

import json

from headwater.sources.inbox import Inbox
from tests.cdc.helpers import FLINK, TESTDATA, cdc_project, mirror_rows


def test_inbox_carried_debezium_stream_gives_the_final_table(tmp_path):
    platform = cdc_project(tmp_path / "p", url="", options="{carrier: inbox}")
    inbox = Inbox(platform.state_dir / "inbox" / "products_mirror")
    lines = (FLINK / "debezium-postgres-data-schema-exclude.txt").read_text().splitlines()
    inbox.append("\n".join(lines[:9]) + "\n")
    first = platform.cdc.run("products_mirror", until_idle=0)
    assert first.status == "success", first.error
    assert len(mirror_rows(platform)) == 9
    inbox.append("\n".join(lines[9:]) + "\n")
    second = platform.cdc.run("products_mirror", until_idle=0)
    assert second.status == "success" and second.changes == 7
    want = json.loads((TESTDATA / "third_party/debezium/"
                       "debezium-postgres-data-schema-exclude.expected_final.json").read_text())
    got = [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()} for r in mirror_rows(platform)]
    assert got == sorted(want, key=lambda r: r["id"])
    assert platform.cdc.run("products_mirror", until_idle=0).changes == 0  # acknowledged, not re-read
