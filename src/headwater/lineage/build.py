"""Fold OpenLineage events and a project's declarations into a LineageGraph."""

from __future__ import annotations

from typing import Any

from headwater.lineage.graph import LineageGraph, Node, dataset_id
from headwater.lineage.naming import normalise

JOB_FACETS_KEPT = ("ownership", "jobType", "sql", "documentation", "sourceCodeLocation", "tags", "dbtTest")
DATASET_FACETS_KEPT = ("schema", "datasource", "ownership", "documentation", "dataSource",
                       "storage", "datasetType", "lifecycleStateChange", "tags")


def apply_event(graph: LineageGraph, event: dict[str, Any], origin: str = "events") -> None:
    """Add what one run, job or dataset event says to ``graph`` (later events win on facets)."""
    job_doc = event.get("job")
    job = None
    if isinstance(job_doc, dict):
        job = graph.node("job", job_doc["namespace"], job_doc["name"], origin)
        _job_facets(job, job_doc.get("facets") or {})
        run = event.get("run")
        if isinstance(run, dict):
            last = job.attrs.get("latest_run")
            if last is None or last["id"] != run["runId"] or last["eventTime"] <= event["eventTime"]:
                job.attrs["latest_run"] = {"id": run["runId"], "state": event.get("eventType"),
                                           "eventTime": event["eventTime"]}
        parent = ((event.get("run") or {}).get("facets") or {}).get("parent")
        if isinstance(parent, dict) and isinstance(parent.get("job"), dict):
            pj = parent["job"]
            job.attrs["parent"] = f"{pj.get('namespace')}:{pj.get('name')}"
    for doc in event.get("inputs") or ():
        ds = _dataset(graph, doc, origin)
        if job is not None:
            graph.link(ds.id, job.id)
    for doc in event.get("outputs") or ():
        ds = _dataset(graph, doc, origin)
        if job is not None:
            graph.link(job.id, ds.id)
    if isinstance(event.get("dataset"), dict):
        _dataset(graph, event["dataset"], origin)


def _job_facets(job: Node, facets: dict) -> None:
    for key in JOB_FACETS_KEPT:
        value = facets.get(key)
        if isinstance(value, dict) and not value.get("_deleted"):
            job.facets[key] = value
    job_type = facets.get("jobType")
    if isinstance(job_type, dict) and job_type.get("jobType") == "EXPOSURE":
        job.attrs["exposure"] = f"{job_type.get('integration', '').lower()} exposure".strip()
    owners = (facets.get("ownership") or {}).get("owners") if isinstance(facets.get("ownership"), dict) else None
    if owners:
        job.owners = [o.get("name", "") for o in owners if isinstance(o, dict)]


def _dataset(graph: LineageGraph, doc: dict, origin: str) -> Node:
    ds = graph.node("dataset", doc["namespace"], doc["name"], origin)
    facets = doc.get("facets") or {}
    for key in DATASET_FACETS_KEPT:
        value = facets.get(key)
        if isinstance(value, dict) and not value.get("_deleted"):
            ds.facets[key] = value
    owners = (facets.get("ownership") or {}).get("owners") if isinstance(facets.get("ownership"), dict) else None
    if owners:
        ds.owners = [o.get("name", "") for o in owners if isinstance(o, dict)]
    symlinks = facets.get("symlinks")
    if isinstance(symlinks, dict):
        for ident in symlinks.get("identifiers") or ():
            graph.add_alias(ds, ident["namespace"], ident["name"])
            ds = graph.get(ds.id)
    lineage = facets.get("columnLineage")
    if isinstance(lineage, dict) and isinstance(lineage.get("fields"), dict):
        cols = graph.columns.setdefault(ds.id, {})
        for column, spec in lineage["fields"].items():
            sources = []
            for field_ in (spec or {}).get("inputFields") or ():
                kind = ",".join(sorted({t.get("type", "") for t in field_.get("transformations") or ()
                                        if isinstance(t, dict)})) or "DIRECT"
                sources.append((dataset_id(field_["namespace"], field_["name"]), field_["field"], kind))
            cols[column] = sources
    return ds


def apply_project(graph: LineageGraph, project, warehouse: str, table_namespace: str) -> None:
    """Every declared product (a job writing its table) and source, with owners and consumers.

    Identities are the ones headwater's own run events use, so declarations and events land on
    the same nodes: a product table at its warehouse location, aliased ``headwater://<project>``.
    """
    ns = f"headwater://{project.name}"
    base = warehouse.rstrip("/")
    for name, source in project.sources.items():
        path = str((project.root / source.path).resolve()) if "*" not in source.path else \
            str(project.root.resolve() / source.path)
        ds = graph.node("dataset", "file", path, "project")
        graph.add_alias(ds, ns, name)
        ds = graph.get(ds.id)
        ds.attrs.update(source=name, description=source.description or None,
                        expected_arrival=source.expected_arrival)
        if source.owner is not None:
            ds.owners = ds.owners or [f"team:{source.owner.team}"]
            ds.attrs["owner"] = source.owner.model_dump()
    for name in project.products:
        ds = graph.node("dataset", *normalise("file", f"{base}/{table_namespace}/{name}"), "project")
        graph.add_alias(ds, ns, name)
    for name, product in project.products.items():
        ds = graph.get(dataset_id(ns, name))
        job = graph.node("job", ns, name, "project")
        owner = product.owner.model_dump()
        for node in (ds, job):
            node.attrs.update(product=name, tier=product.tier, domain=product.domain, owner=owner,
                              consumers=[c.model_dump() for c in product.consumers])
            node.owners = node.owners or ([f"team:{product.owner.team}"]
                                          + [f"user:{p}" for p in product.owner.people])
        graph.link(job.id, ds.id)
        for parent in product.inputs:
            graph.link(dataset_id(ns, parent), job.id)
