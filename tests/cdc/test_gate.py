"""The contract gate on change batches: quarantined after-images are not applied, nothing else changes."""

from __future__ import annotations

import textwrap

from tests.cdc.helpers import FLINK, cdc_project, mirror_rows

CONTRACT = """
product: products_mirror
version: 1.0.0
owner: {team: sales-data}
columns:
  - {name: id, type: long, nullable: false}
  - {name: name, type: string}
  - {name: description, type: string}
  - name: weight
    type: double
    checks: [{range: {min: 1}, id: weight_at_least_1}]
primary_key: [id]
"""


def test_quarantined_changes_are_kept_aside(tmp_path):
    platform = cdc_project(tmp_path / "p", url=str(FLINK / "debezium-postgres-data-schema-exclude.txt"))
    (tmp_path / "p" / "contracts").mkdir()
    (tmp_path / "p" / "contracts" / "products_mirror.yaml").write_text(textwrap.dedent(CONTRACT).lstrip())
    assert platform.contracts.plan_for("products_mirror") is not None
    result = platform.cdc.run("products_mirror", until_idle=0)
    assert result.status == "success", result.error
    assert result.quarantined > 0
    assert all(r["weight"] >= 1 for r in mirror_rows(platform)), (mirror_rows(platform), result)
    bad = platform.contracts.quarantine_rows("products_mirror", limit=None)
    assert bad.num_rows == result.quarantined
    assert all(w < 1 for w in bad.column("weight").to_pylist()), [(r["id"], r["weight"], r.get("_hw_reasons")) for r in bad.to_pylist()]
