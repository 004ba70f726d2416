"""headwater's own steps as OpenLineage run events (spec 2-0-2).

Events are plain dicts checked in the tests against the spec's JSON schema; building them by hand
keeps the run path free of a heavy import. Dataset names follow the naming spec: a local file
location is namespace ``file`` and the absolute path, one on an object store its bucket
(``s3://bucket``) and the key (``lanes/inputs.table_dataset``); the product name rides along as a
symlink.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from headwater import __version__

SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PRODUCER = f"https://github.com/headwater-data/headwater/tree/v{__version__}"
_FACETS = "https://openlineage.io/spec/facets/"
SCHEMA_URLS = {
    "schema": _FACETS + "1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "outputStatistics": _FACETS + "1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet",
    "inputStatistics": _FACETS + "1-0-0/InputStatisticsInputDatasetFacet.json#/$defs/InputStatisticsInputDatasetFacet",
    "symlinks": _FACETS + "1-0-1/SymlinksDatasetFacet.json#/$defs/SymlinksDatasetFacet",
    "errorMessage": _FACETS + "1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "jobType": _FACETS + "2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "ownership": _FACETS + "1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet",
    "parent": _FACETS + "1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
    "processing_engine": _FACETS + "1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet",
    "sql": _FACETS + "1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet",
    "documentation": _FACETS + "1-1-0/DocumentationJobFacet.json#/$defs/DocumentationJobFacet",
}


def facet(kind: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": SCHEMA_URLS[kind], **fields}


def parse_time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@dataclass
class DatasetRef:
    """A dataset as OpenLineage names it, with what headwater knows about it."""

    namespace: str
    name: str
    product: str | None = None
    project_namespace: str | None = None
    schema: pa.Schema | None = None
    rows: int | None = None
    bytes: int | None = None
    files: int | None = None
    extra_facets: dict[str, Any] = field(default_factory=dict)

    def to_event(self, role: str) -> dict[str, Any]:
        facets: dict[str, Any] = dict(self.extra_facets)
        if self.schema is not None:
            facets["schema"] = facet("schema", fields=[{"name": f.name, "type": str(f.type)}
                                                       for f in self.schema])
        if self.product and self.project_namespace:
            facets["symlinks"] = facet("symlinks", identifiers=[
                {"namespace": self.project_namespace, "name": self.product, "type": "TABLE"}])
        out: dict[str, Any] = {"namespace": self.namespace, "name": self.name, "facets": facets}
        stats = {k: v for k, v in (("rowCount", self.rows), ("size", self.bytes),
                                   ("fileCount", self.files)) if v is not None}
        if stats and role == "output":
            out["outputFacets"] = {"outputStatistics": facet("outputStatistics", **stats)}
        elif stats and role == "input":
            out["inputFacets"] = {"inputStatistics": facet("inputStatistics", **stats)}
        return out


@dataclass
class JobRef:
    namespace: str
    name: str
    owners: list[str] = field(default_factory=list)
    sql: str | None = None
    description: str | None = None
    processing_type: str = "BATCH"

    def to_event(self) -> dict[str, Any]:
        facets: dict[str, Any] = {"jobType": facet("jobType", processingType=self.processing_type,
                                                   integration="HEADWATER", jobType="PRODUCT")}
        if self.owners:
            facets["ownership"] = facet("ownership", owners=[{"name": o} for o in self.owners])
        if self.sql:
            facets["sql"] = facet("sql", query=self.sql)
        if self.description:
            facets["documentation"] = facet("documentation", description=self.description)
        return {"namespace": self.namespace, "name": self.name, "facets": facets}


def run_event(event_type: str, when: datetime, run_id: str, job: JobRef,
              inputs: list[DatasetRef] = (), outputs: list[DatasetRef] = (),
              parent: tuple[str, str, str] | None = None, error: str | None = None) -> dict[str, Any]:
    """A START, COMPLETE or FAIL run event for one step."""
    run_facets: dict[str, Any] = {
        "processing_engine": facet("processing_engine", version=__version__, name="headwater"),
    }
    if parent is not None:
        parent_run, parent_ns, parent_name = parent
        run_facets["parent"] = facet("parent", run={"runId": parent_run},
                                     job={"namespace": parent_ns, "name": parent_name})
    if error:
        run_facets["errorMessage"] = facet("errorMessage", message=error, programmingLanguage="PYTHON")
    return {
        "eventType": event_type,
        "eventTime": when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "run": {"runId": run_id, "facets": run_facets},
        "job": job.to_event(),
        "inputs": [d.to_event("input") for d in inputs],
        "outputs": [d.to_event("output") for d in outputs],
        "producer": PRODUCER,
        "schemaURL": SPEC,
    }
