"""Replaying real Debezium change streams produces the rows the upstream projects expect."""

from __future__ import annotations

import json

import pytest

from tests.cdc.helpers import FLINK, TESTDATA, cdc_project, mirror_rows

CASES = {
    "schema-exclude": ("debezium-postgres-data-schema-exclude.txt",
                       "debezium-postgres-data-schema-exclude.expected_final.json"),
    "replica-identity-default": ("debezium-postgres-data-replica-identity.txt",
                                 "debezium-postgres-data-replica-identity.expected_final.json"),
}


def _approx(rows):
    return [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]


@pytest.mark.parametrize("case", sorted(CASES))
def test_flink_postgres_stream_gives_the_final_table(tmp_path, case):
    log, expected = CASES[case]
    platform = cdc_project(tmp_path / "p", url=str(FLINK / log))
    result = platform.cdc.run("products_mirror", until_idle=0)
    assert result.status == "success", result.error
    want = json.loads((TESTDATA / "third_party/debezium" / expected).read_text())
    assert _approx(mirror_rows(platform)) == _approx(sorted(want, key=lambda r: r["id"]))
    if case == "replica-identity-default":
        # the delete of 111 carries no key (before=null): reported, not silently applied or lost
        assert result.skipped.get("delete without key (REPLICA IDENTITY DEFAULT without the record key)") == 1


def test_replay_twice_changes_nothing(tmp_path):
    platform = cdc_project(tmp_path / "p", url="unused.jsonl")
    log = FLINK / "debezium-postgres-data-schema-exclude.txt"
    first = platform.cdc.replay(log, "products_mirror")
    snap = platform.lakehouse.current("products_mirror")
    again = platform.cdc.replay(log, "products_mirror")
    assert first.changes == 16 and again.changes == 0
    assert platform.lakehouse.current("products_mirror").snapshot_id == snap.snapshot_id
    step = platform.ledger.latest("products_mirror")  # what observe/ reconciles completeness with
    assert step.details["gate"] == {"passed": 16, "quarantined": 0, "filtered": 0}
    assert step.details["cdc"]["redelivered"] == 0


def test_small_batches_are_idempotent_and_ordered(tmp_path):
    """One change per commit: the position in each summary lets a rerun resume exactly."""
    platform = cdc_project(tmp_path / "p", url=str(FLINK / "debezium-postgres-data-schema-exclude.txt"))
    part = platform.cdc.run("products_mirror", until_idle=0, max_batch=1, max_batches=5)
    assert part.batches == 5
    summary = platform.lakehouse.current("products_mirror").summary
    assert json.loads(summary["headwater.cdc.positions"]) == {"0": "4"}
    rest = platform.cdc.run("products_mirror", until_idle=0, max_batch=3)
    assert rest.changes == 11
    want = json.loads((TESTDATA / "third_party/debezium/"
                       "debezium-postgres-data-schema-exclude.expected_final.json").read_text())
    assert _approx(mirror_rows(platform)) == _approx(sorted(want, key=lambda r: r["id"]))


def test_connect_schema_envelopes_are_typed(tmp_path):
    """Envelopes inside {schema, payload} and bare ones decode to the same row."""
    src = TESTDATA / "third_party/debezium/debezium_test_resources/debezium-connector-common/src/test/resources/json"
    lines = [json.dumps(json.loads((src / f).read_text()))
             for f in ("serde-with-schema.json", "serde-update.json")]
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n")
    platform = cdc_project(tmp_path / "p", url=str(log), table="inventory.customers")
    result = platform.cdc.run("products_mirror", until_idle=0)
    assert result.status == "success", result.error
    rows = mirror_rows(platform)
    assert rows == [{"id": 1004, "first_name": "Anne", "last_name": "Kretchmar",
                     "email": "annek@noanswer.org"}]
    schema = platform.lakehouse.plan("products_mirror").schema
    assert str(schema.field("id").type) == "int32"  # from the Connect schema, not guessed


def test_examples_decode(tmp_path):
    """Every shared example envelope decodes to a change, or a reason it changes no row."""
    from headwater.lanes.cdc.changes import Change
    from headwater.sources.debezium import Skipped, decode

    seen = {"change": 0, "skipped": 0}
    for path in sorted((TESTDATA / "debezium/examples").glob("*.json")):
        obj = json.loads(path.read_text())
        if path.name.startswith(("connect_schema", "key_or_other")):
            continue
        try:
            event = decode(obj, 0, ["id"])
        except Exception as exc:  # truncate events are refused with a fix
            assert "_op_t_" in path.name, (path.name, exc)
            continue
        assert isinstance(event, (Change, Skipped)), path.name
        seen["change" if isinstance(event, Change) else "skipped"] += 1
        if path.name.startswith("transaction_metadata"):
            assert isinstance(event, Skipped) and event.reason.startswith("transaction")
        if path.name.startswith("schema_change"):
            assert isinstance(event, Skipped)
    assert seen["change"] >= 20 and seen["skipped"] >= 20, seen


def test_postgres_example_update_and_delete(tmp_path):
    """The PostgreSQL docs' update and delete envelopes (with Connect schema wrapper) in order."""
    ex = TESTDATA / "debezium/examples"
    names = ["change_event_envelope_op_u__postgresql__L1045_6.json",
             "change_event_envelope_op_d__postgresql__L1150_4.json"]
    events = [json.loads((ex / n).read_text()) for n in names]
    log = tmp_path / "pg.jsonl"
    log.write_text("\n".join(json.dumps(e) for e in events[:1]) + "\n")
    platform = cdc_project(tmp_path / "p", url=str(log), table="public.customers")
    assert platform.cdc.run("products_mirror", until_idle=0).status == "success"
    assert mirror_rows(platform) == [{"id": 1, "first_name": "Anne Marie", "last_name": "Kretchmar",
                                      "email": "annek@noanswer.org"}]
    with log.open("a") as fh:
        fh.write(json.dumps(events[1]) + "\n")
    assert platform.cdc.run("products_mirror", until_idle=0).deletes == 1
    assert mirror_rows(platform) == []
