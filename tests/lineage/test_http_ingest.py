"""POST /api/v1/lineage through the real FastAPI app: the spec's examples, real third-party
events, deliberately invalid events, idempotency; GET /api/v1/lineage in Marquez's shape."""

from __future__ import annotations

import json

import pytest

from tests.lineage.helpers import THIRD_PARTY, base_event, spec_examples, wrap_example

EXAMPLES = spec_examples()
FLUENTD = THIRD_PARTY / "openlineage/OpenLineage/proxy/fluentd/events"
COMPAT = THIRD_PARTY / "openlineage/compatibility-tests/consumer/scenarios"


def test_the_spec_ships_examples():
    assert len(EXAMPLES) >= 40


@pytest.mark.parametrize("path", EXAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in EXAMPLES])
def test_every_spec_example_ingests_once(client, platform, path):
    event = wrap_example(path)
    first = client.post("/api/v1/lineage", json=event)
    assert first.status_code == 201, first.text
    assert first.json()["stored"] == 1
    again = client.post("/api/v1/lineage", json=event)
    assert again.status_code == 201
    assert again.json() == {"received": 1, "stored": 0, "duplicates": 1, "rejected": []}
    job = event["job"]
    graph = client.get("/api/v1/lineage", params={"nodeId": f"job:{job['namespace']}:{job['name']}",
                                                  "depth": 1}).json()["graph"]
    ids = {n["id"] for n in graph}
    assert f"job:{job['namespace']}:{job['name']}" in ids
    for ds in event.get("outputs") or ():
        assert platform.lineage.graph().canonical(f"dataset:{ds['namespace']}:{ds['name']}") in ids


@pytest.mark.parametrize("name, where", [
    ("event_invalid_dataset_facet.json", "$.outputs[0].facets.ownership.owners[0]"),
    ("event_invalid_job_facet.json", "$.job.facets.ownership.owners[0]"),
    ("event_invalid_output_dataset_facet.json", "$.outputs[0].outputFacets.outputStatistics.rowCount"),
    ("event_invalid_run_facet.json", "$.run.facets.parent.run"),
    ("event_no_run_id.json", "$.run"),
])
def test_deliberately_invalid_upstream_events_get_400_with_the_path(client, platform, name, where):
    response = client.post("/api/v1/lineage", content=(FLUENTD / name).read_bytes(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith(where)
    assert body["stored"] == 0
    assert platform.ledger.events() == []


@pytest.mark.parametrize("name", ["event_full.json", "event_simple.json"])
def test_valid_upstream_proxy_events_ingest(client, name):
    response = client.post("/api/v1/lineage", content=(FLUENTD / name).read_bytes())
    assert response.status_code == 201, response.text


def _mutations():
    def drop(key):
        def f(e):
            del e[key]
        return f

    def set_(path, value):
        def f(e):
            target = e
            for k in path[:-1]:
                target = target[k]
            target[path[-1]] = value
        return f

    return [
        ("no eventTime", drop("eventTime"), "eventTime"),
        ("no producer", drop("producer"), "producer"),
        ("bad eventType", set_(["eventType"], "FINISHED"), "FINISHED"),
        ("runId not a uuid", set_(["run", "runId"], "42"), "uuid"),
        ("eventTime not a time", set_(["eventTime"], "yesterday"), "eventTime"),
        ("dataset without name", lambda e: e["outputs"][0].pop("name"), "name"),
        ("symlink without name", set_(["outputs", 0, "facets", "symlinks"], {
            "_producer": "x", "_schemaURL": "y", "identifiers": [{"namespace": "n", "type": "TABLE"}]}),
         "symlinks"),
        ("column lineage without inputFields", set_(["outputs", 0, "facets", "columnLineage"], {
            "_producer": "x", "_schemaURL": "y", "fields": {"a": {}}}), "inputFields"),
        ("inputs not a list", set_(["inputs"], {"namespace": "a"}), "inputs"),
    ]


@pytest.mark.parametrize("label, mutate, reason", _mutations(), ids=[m[0] for m in _mutations()])
def test_malformed_events_get_400_with_a_reason(client, platform, label, mutate, reason):
    event = base_event()
    mutate(event)
    response = client.post("/api/v1/lineage", json=event)
    assert response.status_code == 400, response.text
    assert reason in response.json()["message"]
    assert platform.ledger.events() == []


@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b"42", b'"event"'])
def test_bodies_that_are_not_events_get_400(client, body):
    response = client.post("/api/v1/lineage", content=body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_real_emitted_events_from_airflow_and_spark_ingest(client, platform):
    files = sorted(COMPAT.glob("*/events/*.json"))
    assert files
    statuses = {}
    for path in files:
        statuses[path.relative_to(COMPAT).as_posix()] = client.post(
            "/api/v1/lineage", content=path.read_bytes()).status_code
    invalid = {k for k, v in statuses.items() if v != 201}
    # the one scenario whose runId is the literal "run_id": the spec requires a UUID
    assert invalid == {"simple_run_event/events/simple_run_event.json"}
    stored = platform.ledger.events()
    identities = {(e["run"]["runId"], e["eventType"], e["eventTime"], e["job"]["namespace"], e["job"]["name"])
                  for e in (json.loads(p.read_text()) for p in files)}
    assert len(stored) == len(identities) - 1  # scenarios share some events: stored once
    jobs = {(e["job"]["namespace"], e["job"]["name"]) for e in stored}
    graph = platform.lineage.graph()
    assert all(graph.get(f"job:{ns}:{name}") is not None for ns, name in jobs)


def test_a_list_of_events_is_one_request_and_a_bad_one_is_named(client):
    good, bad = base_event(), base_event()
    del bad["run"]["runId"]
    response = client.post("/api/v1/lineage", json=[good, bad])
    assert response.status_code == 400
    assert response.json()["message"].startswith("event 1: $.run")


def test_get_lineage_is_marquez_shaped_and_404s_unknown_nodes(client, platform):
    platform.run()
    response = client.get("/api/v1/lineage", params={"nodeId": "daily_revenue", "depth": 1})
    assert response.status_code == 200
    graph = response.json()["graph"]
    by_id = {n["id"]: n for n in graph}
    job = by_id["job:headwater://mini:daily_revenue"]
    assert job["type"] == "JOB" and job["data"]["latestRun"]["state"] == "COMPLETE"
    assert {i["name"].rsplit("/", 1)[-1] for i in job["data"]["inputs"]} == {"stg_orders", "stg_customers"}
    for node in graph:
        for edge in node["inEdges"]:
            assert edge["destination"] == node["id"] and edge["origin"] in by_id
        for edge in node["outEdges"]:
            assert edge["origin"] == node["id"] and edge["destination"] in by_id
    missing = client.get("/api/v1/lineage", params={"nodeId": "job:nowhere:nothing"})
    assert missing.status_code == 404
    assert "fix" in missing.json()
