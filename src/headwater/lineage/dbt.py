"""dbt artifacts into the lineage graph, the ledger and headwater contracts.

Models, seeds and snapshots become jobs writing their relation; sources and relations become
datasets (namespace ``<adapter>://<database>``, name ``<schema>.<alias>``: the artifacts carry no
host, so the database stands in for it; given the warehouse's namespace as other tools name it,
``postgres://host:5432``, the datasets are that namespace and ``<database>.<schema>.<alias>``, the
naming spec's, so they meet Airflow's and Spark's events on the same tables); tests and exposures become jobs reading what they test or
show, and exposures are listed as consumers. The manifest is stored as OpenLineage *job* events
(static lineage at ``generated_at``); each node timing in run_results becomes a START and a
COMPLETE/FAIL *run* event, children of one run per dbt invocation. Models with an enforced contract
become headwater contract files. Re-importing the same artifacts stores nothing new.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from headwater.ledger.openlineage import PRODUCER, facet
from headwater.lineage.dbt_artifacts import (
    RELATIONS,
    DbtNode,
    Manifest,
    load_catalog,
    load_manifest,
    load_run_results,
)

JOB_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
DBT_TEST_FACET = "https://github.com/headwater-data/headwater/blob/main/docs/lineage.md#dbttest"
_END = {"success": "COMPLETE", "pass": "COMPLETE", "warn": "COMPLETE", "error": "FAIL", "fail": "FAIL",
        "runtime error": "FAIL", "skipped": "ABORT"}


def _dataset(m: Manifest, node: DbtNode, types: dict[str, str] | None = None, role: str = "input") -> dict:
    if m.namespace:  # the naming spec's database.schema.table under the warehouse's namespace
        namespace, name = m.namespace, ".".join(p for p in (node.database, node.relation) if p)
    else:
        namespace, name = f"{m.adapter}://{node.database or m.project}", node.relation
    out = {"namespace": namespace, "name": name, "facets": {}}
    documented = {c.get("name", k): c for k, c in (node.columns or {}).items()}
    if types:  # the catalog is what the warehouse holds; the manifest is what was documented
        fields = [{"name": n, **({"type": t} if t else {}),
                   **({"description": documented[n]["description"]}
                      if documented.get(n, {}).get("description") else {})} for n, t in types.items()]
    else:
        fields = [{"name": n, **({"type": c["data_type"]} if c.get("data_type") else {}),
                   **({"description": c["description"]} if c.get("description") else {})}
                  for n, c in documented.items()]
    if fields and role == "output":
        out["facets"]["schema"] = facet("schema", fields=fields)
    if node.description and role == "output":
        out["facets"]["documentation"] = {"_producer": PRODUCER, "description": node.description,
                                          "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DocumentationDatasetFacet.json"}
    return out


def _job(m: Manifest, node: DbtNode) -> dict:
    facets = {"jobType": facet("jobType", processingType="BATCH", integration="DBT",
                               jobType=node.resource_type.upper())}
    if node.owner:
        facets["ownership"] = facet("ownership", owners=[{"name": node.owner}])
    sql = node.raw.get("compiled_code") or node.raw.get("compiled_sql")  # raw code is Jinja, not SQL
    if sql and node.resource_type in ("model", "snapshot"):
        facets["sql"] = facet("sql", query=sql)
    if node.description:
        facets["documentation"] = facet("documentation", description=node.description)
    column = node.raw.get("column_name") or ((node.raw.get("test_metadata") or {}).get("kwargs") or {}).get("column_name")
    if node.resource_type == "test" and column:  # a custom facet: which column a generic test checks
        facets["dbtTest"] = {"_producer": PRODUCER, "_schemaURL": DBT_TEST_FACET, "column": column,
                             "test": (node.raw.get("test_metadata") or {}).get("name")}
    return {"namespace": f"dbt://{m.project}", "name": node.unique_id, "facets": facets}


def _io(m: Manifest, node: DbtNode, catalog: dict) -> tuple[list[dict], list[dict]]:
    inputs = [_dataset(m, m.nodes[d]) for d in node.depends_on
              if d in m.nodes and m.nodes[d].resource_type in (*RELATIONS, "source")]
    if node.resource_type == "seed" and m.root_path and node.raw.get("original_file_path"):
        inputs.append({"namespace": "file", "name": str(Path(m.root_path) / node.raw["original_file_path"])})
    outputs = [_dataset(m, node, catalog.get(node.unique_id), "output")] if node.resource_type in RELATIONS else []
    return inputs, outputs


def manifest_events(m: Manifest, catalog: dict) -> list[dict]:
    """One JobEvent per model, seed, snapshot, test and exposure; one DatasetEvent per source."""
    events = []
    for node in m.nodes.values():
        if node.resource_type == "source":
            events.append({"eventTime": m.generated_at, "producer": PRODUCER, "schemaURL":
                           JOB_EVENT.replace("JobEvent", "DatasetEvent"),
                           "dataset": _dataset(m, node, catalog.get(node.unique_id), "output")})
            continue
        if node.resource_type not in (*RELATIONS, "test", "exposure"):
            continue
        inputs, outputs = _io(m, node, catalog)
        events.append({"eventTime": m.generated_at, "producer": PRODUCER, "schemaURL": JOB_EVENT,
                       "job": _job(m, node), "inputs": inputs, "outputs": outputs})
    return events


def run_events(m: Manifest, invocation: str, results, catalog: dict) -> list[dict]:
    """START and COMPLETE/FAIL per timed node, with the invocation as the parent run."""
    parent_run = str(uuid.uuid5(uuid.NAMESPACE_URL, f"dbt-invocation:{invocation}"))
    parent = facet("parent", run={"runId": parent_run}, job={"namespace": f"dbt://{m.project}", "name": "dbt-invocation"})
    events = []
    for r in results:
        node = m.nodes.get(r.unique_id)
        if node is None or not r.started_at or not r.completed_at:
            continue
        run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"dbt:{invocation}:{r.unique_id}"))
        inputs, outputs = _io(m, node, catalog)
        if outputs and r.rows is not None:
            outputs[0]["outputFacets"] = {"outputStatistics": facet("outputStatistics", rowCount=r.rows)}
        end = _END.get(r.status, "OTHER")
        job = _job(m, node)
        for kind, when in (("START", r.started_at), (end, r.completed_at)):
            facets = {"parent": parent}
            if kind == "FAIL" and r.message:
                facets["errorMessage"] = facet("errorMessage", message=str(r.message)[:2000], programmingLanguage="SQL")
            events.append({"eventType": kind, "eventTime": when, "producer": PRODUCER, "schemaURL": RUN_EVENT,
                           "run": {"runId": run_id, "facets": facets}, "job": job,
                           "inputs": inputs, "outputs": outputs if kind != "START" else []})
    return events


def import_dbt(service, manifest: str, run_results: str | None = None, catalog: str | None = None,
               contracts_dir: str | None = None, namespace: str | None = None) -> dict:
    """Import dbt artifacts; returns what was found, stored and written.

    ``namespace``: the warehouse's dataset namespace as the other tools' events name it
    (``postgres://host:5432``, ``snowflake://org-account``, ``bigquery``)."""
    from headwater.lineage.dbt_contracts import write_contracts

    m = load_manifest(manifest)
    if namespace is not None:
        m.namespace = _namespace(namespace)
    types = load_catalog(catalog) if catalog else {}
    events = manifest_events(m, types)
    timed = 0
    if run_results:
        _version, invocation, results = load_run_results(run_results)
        runs = run_events(m, invocation, results, types)
        timed = len(runs) // 2
        events += runs
    result = service.ingest(events, origin="dbt")
    if result.rejected:
        from headwater.errors import HeadwaterError

        first = result.rejected[0]
        raise HeadwaterError(f"the dbt import made an invalid event: {first.problems[0]}",
                             fix="please report this with the artifact's dbt version")
    out_dir = Path(contracts_dir) if contracts_dir else service.platform.root / "contracts"
    written = write_contracts(m, types, out_dir)
    counts: dict[str, int] = {}
    for node in m.nodes.values():
        counts[node.resource_type] = counts.get(node.resource_type, 0) + 1
    return {"manifest_version": m.version, "project": m.project, "adapter": m.adapter,
            "dataset_namespace": m.namespace or f"{m.adapter}://<database>",
            "nodes": dict(sorted(counts.items())), "runs": timed, "events": result.to_dict(),
            "contracts": [str(p) for p in written]}


def _namespace(given: str) -> str:
    """The naming spec's spelling of a warehouse namespace given on the command line."""
    from headwater.errors import HeadwaterError
    from headwater.lineage.naming import normalise_namespace

    text = given.strip()
    scheme, sep, rest = text.partition("://")
    if not text or any(c.isspace() for c in text) or (sep and not rest) or (sep and "/" in rest):
        raise HeadwaterError(f"--namespace {given!r} is not a dataset namespace",
                        fix="give the warehouse as the other tools' events name it: a scheme and its host "
                            "(postgres://db.example:5432, snowflake://org-account) or a bare scheme (bigquery)")
    return normalise_namespace(text)
