"""Shared material for lineage tests: the spec's own examples wrapped into events."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

TESTDATA = Path(os.environ.get("HEADWATER_TESTDATA", Path(__file__).resolve().parents[3] / "shared" / "testdata"))
OPENLINEAGE = TESTDATA / "openlineage"
SPEC_EXAMPLES = OPENLINEAGE / "spec_examples"
JAFFLE = TESTDATA / "dbt" / "jaffle_shop_classic"
THIRD_PARTY = TESTDATA / "third_party"


def base_event(run_id: str | None = None, when: str = "2026-01-01T00:00:00Z") -> dict:
    return {"eventType": "COMPLETE", "eventTime": when,
            "run": {"runId": run_id or str(uuid.uuid4()), "facets": {}},
            "job": {"namespace": "tests", "name": "example_job", "facets": {}},
            "inputs": [{"namespace": "tests", "name": "in_table", "facets": {}, "inputFacets": {}}],
            "outputs": [{"namespace": "tests", "name": "out_table", "facets": {}, "outputFacets": {}}],
            "producer": "https://example.com/tests",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}


def wrap_example(path: Path) -> dict:
    """A spec example as a whole event: a facet example is placed where its kind of facet sits."""
    doc = json.loads(path.read_text())
    if "eventType" in doc or "eventTime" in doc:
        return doc
    kind = path.parent.name
    event = base_event(str(uuid.uuid5(uuid.NAMESPACE_URL, str(path))))
    schema_urls = " ".join(str(v.get("_schemaURL", "")) for v in doc.values() if isinstance(v, dict))
    if kind.endswith("InputDatasetFacet"):
        event["inputs"][0]["inputFacets"] = doc
    elif kind.endswith("OutputDatasetFacet"):
        event["outputs"][0]["outputFacets"] = doc
    elif kind.endswith("DatasetFacet") or "DatasetFacet" in schema_urls:
        event["outputs"][0]["facets"] = doc
    elif kind.endswith("RunFacet"):
        event["run"]["facets"] = doc
    else:  # JobFacet, and LineageFacet examples marked as job facets
        event["job"]["facets"] = doc
    return event


def spec_examples() -> list[Path]:
    return sorted(SPEC_EXAMPLES.rglob("*.json"))
