"""The cdc commands (run, replay, status with --json) and the SCD2 history table."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from headwater.cli import app
from tests.cdc.helpers import FLINK, cdc_project, mirror_rows

LOG = FLINK / "debezium-postgres-data-schema-exclude.txt"


def test_cli_replay_run_and_status_json(tmp_path):
    project = tmp_path / "p"
    cdc_project(project, url=str(LOG))
    runner = CliRunner()
    out = runner.invoke(app, ["cdc", "replay", str(LOG), "--product", "products_mirror",
                              "-p", str(project), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["changes"] == 16
    again = runner.invoke(app, ["cdc", "run", "products_mirror", "--until-idle", "0", "-p", str(project),
                                "--json"])
    assert again.exit_code == 0, again.output
    status = runner.invoke(app, ["cdc", "status", "-p", str(project), "--json"])
    assert status.exit_code == 0, status.output
    [row] = json.loads(status.stdout)
    assert row["product"] == "products_mirror" and row["rows"] == 10
    assert row["lag_records"] == 0 and row["lag_seconds"] == 0.0
    assert row["position"] == {"0": "15"}
    human = runner.invoke(app, ["cdc", "status", "-p", str(project)])
    assert human.exit_code == 0 and "CDC products" in human.stdout


def test_history_keeps_every_version(tmp_path):
    platform = cdc_project(tmp_path / "p", url=str(LOG), history=True)
    first = platform.cdc.run("products_mirror", until_idle=0, max_batch=4)
    assert first.status == "success", first.error
    hist = sorted(platform.lakehouse.load("products_mirror__history").scan().to_arrow().to_pylist(),
                  key=lambda r: (r["id"], r["_cdc_position"]))
    by_id: dict[int, list[dict]] = {}
    for row in hist:
        by_id.setdefault(row["id"], []).append(row)
    # 106: snapshot row then one update: the old version is closed when the new one starts
    v106 = by_id[106]
    assert [v["op"] for v in v106] == ["r", "u"]
    assert v106[0]["valid_to"] == v106[1]["valid_from"] and not v106[0]["is_current"]
    assert v106[1]["is_current"] and v106[1]["description"] == "18oz carpenter hammer"
    # 111: created, updated, deleted: no current version remains
    assert [v["op"] for v in by_id[111]] == ["c", "u"]
    assert not any(v["is_current"] for v in by_id[111]) and by_id[111][-1]["valid_to"] is not None
    current = sorted(r["id"] for r in hist if r["is_current"])
    assert current == [r["id"] for r in mirror_rows(platform)]
    # the history table is queryable by name, like its product
    queried = platform.query("SELECT id, op FROM products_mirror__history WHERE id = 106 ORDER BY valid_from")
    assert queried.to_pylist() == [{"id": 106, "op": "r"}, {"id": 106, "op": "u"}]
    out = CliRunner().invoke(app, ["query", "SELECT count(*) AS n FROM products_mirror__history", "-p",
                                   str(tmp_path / "p"), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == [{"n": len(hist)}]
    # replaying changes nothing in either table
    snap = platform.lakehouse.current("products_mirror__history").snapshot_id
    platform.cdc.run("products_mirror", until_idle=0)
    assert platform.lakehouse.current("products_mirror__history").snapshot_id == snap


def test_each_commit_is_an_openlineage_run(tmp_path):
    platform = cdc_project(tmp_path / "p", url=str(LOG))
    result = platform.cdc.run("products_mirror", until_idle=0, max_batch=8)
    events = platform.ledger.events(job_name="products_mirror")
    kinds = sorted(e["eventType"] for e in events)
    assert kinds.count("COMPLETE") == result.batches and kinds.count("START") == result.batches
    payload = events[-1]
    assert payload["inputs"][0]["name"].endswith("debezium-postgres-data-schema-exclude.txt")
    assert payload["outputs"][0]["name"].endswith("products_mirror")
