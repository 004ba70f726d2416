"""The shells: headwater ingest / stream run / stream status, and POST /api/v1/ingest/{product}."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from headwater.cli import app
from headwater.platform import Platform
from headwater.server.app import create_app
from tests.streaming.helpers import events, jsonl, stream_project


def test_cli_ingests_runs_and_reports(tmp_path):
    root = stream_project(tmp_path / "p")
    (root / "ev.jsonl").write_text(jsonl(events(120)))
    runner = CliRunner()
    out = runner.invoke(app, ["ingest", "clicks", str(root / "ev.jsonl"), "-p", str(root), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["records"] == 120
    out = runner.invoke(app, ["ingest", "clicks", "-", "-p", str(root), "--json"], input=jsonl(events(10)))
    assert json.loads(out.stdout)["records"] == 10
    out = runner.invoke(app, ["stream", "run", "clicks", "--until-idle", "0.3", "-p", str(root), "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["stats"]["written"] == 120 and result["stats"]["duplicates"] == 10
    out = runner.invoke(app, ["stream", "status", "-p", str(root), "--json"])
    status = json.loads(out.stdout)[0]
    assert status["lag"]["0"]["bytes"] == 0 and status["duplicate_rate"] == round(10 / 130, 6)
    out = runner.invoke(app, ["stream", "status", "-p", str(root)])
    assert out.exit_code == 0 and "clicks" in out.stdout


def test_http_ingest_is_durable_bounded_and_refuses_oversized_bodies(tmp_path):
    source = "{kind: inbox, options: {max_bytes: 20000, max_request_bytes: 8000}}"
    root = stream_project(tmp_path / "p", source=source)
    hw = Platform(root)
    client = TestClient(create_app(hw))
    r = client.post("/api/v1/ingest/clicks", content=json.dumps(events(20)))
    assert r.status_code == 202 and r.json()["accepted"] == 20
    r = client.post("/api/v1/ingest/clicks", content=jsonl(events(20, start=20)))
    assert r.status_code == 202
    assert hw.streaming.inbox("clicks").backlog_bytes() > 0  # on disk before the 202
    assert client.post("/api/v1/ingest/clicks", content=jsonl(events(200))).status_code == 413
    assert client.post("/api/v1/ingest/clicks", content=b"{not json").status_code == 400
    assert client.post("/api/v1/ingest/nope", content=b"[]").status_code == 404
    codes = [client.post("/api/v1/ingest/clicks", content=jsonl(events(40, start=40 * i))).status_code
             for i in range(2, 12)]
    assert codes[0] == 202 and codes[-1] == 429  # backpressure once the bound is reached
    full = client.post("/api/v1/ingest/clicks", content=jsonl(events(40)))
    assert full.headers["retry-after"] and "bound" in full.json()["message"]
    hw.streaming.run("clicks", until_idle=0.2)  # the consumer acknowledges: room again
    assert client.post("/api/v1/ingest/clicks", content=jsonl(events(40))).status_code == 202
