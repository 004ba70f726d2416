"""The run ledger on SQLite and on a real PostgreSQL: the same content, the same migrations."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from headwater.ledger import migrate
from headwater.platform import Platform
from headwater.settings import Settings

OL = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "openlineage"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """Settings for a ledger and catalog on SQLite (default) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield Settings()
    else:
        url = request.getfixturevalue("fresh_pg_database")
        yield Settings(ledger_url=url, catalog_url=url)


def test_ledger_records_every_step(mini, backend):
    hw = Platform(mini, settings=backend)
    result = hw.run()
    assert result.ok
    assert hw.ledger.engine.dialect.name == ("sqlite" if backend.ledger_url is None else "postgresql")
    run = hw.ledger.run(result.run_id)
    assert run.status == "success" and run.finished_at >= run.started_at and run.pid
    steps = {s.product: s for s in hw.ledger.steps(run_id=result.run_id)}
    assert set(steps) == {"stg_orders", "stg_customers", "daily_revenue"}
    for name, step in steps.items():
        assert step.status == "success"
        assert step.lane == "batch" and step.trigger == "cli"
        assert step.queued_at <= step.started_at <= step.finished_at
        assert step.queued_at.tzinfo is not None
        assert step.rows_written > 0 and step.bytes_written > 0
        assert step.bytes_read > 0 and step.rows_read > 0
        assert step.cpu_seconds is not None and step.cpu_seconds >= 0
        assert step.peak_memory_bytes > 10_000_000
        assert step.output_snapshot_id == hw.lakehouse.current(name).snapshot_id
        assert step.input_snapshots
    assert steps["stg_orders"].rows_read == 12 and steps["stg_orders"].rows_written == 12
    assert steps["stg_customers"].rows_read == 3
    # the downstream step recorded the exact snapshots of its inputs
    assert steps["daily_revenue"].input_snapshots == {
        "stg_orders": str(steps["stg_orders"].output_snapshot_id),
        "stg_customers": str(steps["stg_customers"].output_snapshot_id)}
    # and the snapshot summary carries the run
    snap = hw.lakehouse.current("daily_revenue")
    assert snap.run_id == result.run_id and snap.summary["headwater.step-id"] == steps["daily_revenue"].step_id


def test_failures_are_recorded_with_the_error(mini, backend):
    (mini / "sql/stg_customers.sql").write_text("SELECT customer_id, CAST(country AS INTEGER) AS c FROM raw_customers\n")
    hw = Platform(mini, settings=backend)
    result = hw.run()
    steps = {s.product: s for s in hw.ledger.steps(run_id=result.run_id)}
    assert steps["stg_customers"].status == "failed" and "Conversion" in steps["stg_customers"].error
    assert steps["daily_revenue"].status == "skipped"
    assert hw.ledger.run(result.run_id).status == "failed"


def _validator():
    schema = json.loads((OL / "OpenLineage.json").read_text())
    resources = [(schema["$id"], Resource.from_contents(schema))]
    for facet in (OL / "facets").glob("*.json"):
        doc = json.loads(facet.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)
    return jsonschema.Draft202012Validator(schema, registry=registry), registry


def test_openlineage_events_follow_the_spec(mini, backend):
    hw = Platform(mini, settings=backend)
    hw.run()
    (mini / "sql/stg_customers.sql").write_text("SELECT customer_id, CAST(country AS INTEGER) AS c FROM raw_customers\n")
    Platform(mini, settings=backend).run(["stg_customers"])
    events = hw.ledger.events()
    kinds = [(e["job"]["name"], e["eventType"]) for e in events]
    assert ("stg_orders", "START") in kinds and ("stg_orders", "COMPLETE") in kinds
    assert ("stg_customers", "FAIL") in kinds
    validator, registry = _validator()
    for event in events:
        validator.validate(event)
        facets = [*event["run"]["facets"].values(), *event["job"]["facets"].values()]
        for dataset in event["inputs"] + event["outputs"]:
            facets += [*dataset.get("facets", {}).values(), *dataset.get("outputFacets", {}).values(),
                       *dataset.get("inputFacets", {}).values()]
        for facet in facets:  # each facet against its own published schema
            jsonschema.Draft202012Validator({"$ref": facet["_schemaURL"]}, registry=registry).validate(facet)
    complete = next(e for e in events if e["job"]["name"] == "daily_revenue" and e["eventType"] == "COMPLETE")
    inputs = {d["facets"]["symlinks"]["identifiers"][0]["name"] for d in complete["inputs"]}
    assert inputs == {"stg_orders", "stg_customers"}
    out = complete["outputs"][0]
    assert out["namespace"] == "file" and out["name"].endswith("/mini/daily_revenue")
    assert out["outputFacets"]["outputStatistics"]["rowCount"] > 0
    assert [f["name"] for f in out["facets"]["schema"]["fields"]] == ["order_date", "country", "orders", "revenue"]


def test_recording_the_same_event_twice_is_idempotent(mini, backend):
    hw = Platform(mini, settings=backend)
    hw.run(["stg_orders"])
    event = hw.ledger.events()[0]
    before = len(hw.ledger.events())
    assert hw.ledger.record_event(event, origin="ingest") is False
    assert len(hw.ledger.events()) == before


def test_migrations_are_at_every_head(mini, backend):
    hw = Platform(mini, settings=backend)
    assert migrate.current_heads(hw.ledger.engine) == migrate.expected_heads()
    # a second open finds nothing to do
    migrate.upgrade(hw.ledger.engine)
    assert migrate.current_heads(hw.ledger.engine) == migrate.expected_heads()
