"""The lineage graph in Marquez's ``GET /api/v1/lineage`` response shape.

``{"graph": [{"id", "type": "DATASET"|"JOB", "data": {...}, "inEdges": [...], "outEdges": [...]}]}``
with edges as ``{"origin": id, "destination": id}``. As in Marquez, ``depth`` counts jobs: a
node is included when it is at most ``depth`` jobs away from the start in either direction.
"""

from __future__ import annotations

from headwater.lineage.graph import LineageGraph, Node
from headwater.lineage.naming import uri


def _dataset_data(node: Node) -> dict:
    schema = node.facets.get("schema") or {}
    datasource = node.facets.get("datasource") or {}
    return {"id": {"namespace": node.namespace, "name": node.name}, "type": "DB_TABLE",
            "name": node.name, "physicalName": node.name, "namespace": node.namespace,
            "sourceName": datasource.get("name") or node.namespace,
            "fields": [{"name": f.get("name"), "type": f.get("type"), "tags": [],
                        "description": f.get("description")} for f in schema.get("fields") or ()],
            "tags": [], "description": (node.facets.get("documentation") or {}).get("description"),
            "facets": node.facets, "symlinks": sorted(uri(*s) for s in node.symlinks),
            "owners": node.owners}


def _job_data(graph: LineageGraph, node: Node) -> dict:
    job_type = (node.facets.get("jobType") or {}).get("processingType", "BATCH")
    ref = lambda n: {"namespace": graph.nodes[n].namespace, "name": graph.nodes[n].name}
    return {"id": {"namespace": node.namespace, "name": node.name}, "type": job_type,
            "name": node.name, "simpleName": node.name.rsplit(".", 1)[-1], "namespace": node.namespace,
            "inputs": [ref(n) for n in sorted(graph.parents.get(node.id, ()))],
            "outputs": [ref(n) for n in sorted(graph.children.get(node.id, ()))],
            "latestRun": node.attrs.get("latest_run"), "parentJobName": node.attrs.get("parent"),
            "description": (node.facets.get("documentation") or {}).get("description"),
            "facets": node.facets, "owners": node.owners}


def lineage_response(graph: LineageGraph, start: str, depth: int, ledger=None) -> dict:
    hops = max(depth, 0) * 2 + 1  # dataset -> job -> dataset: two hops per job, plus the edge datasets
    selected = graph.both_ways(start, hops)
    out = []
    for nid in sorted(selected):
        node = graph.nodes[nid]
        data = _dataset_data(node) if node.kind == "dataset" else _job_data(graph, node)
        out.append({"id": nid, "type": node.kind.upper(), "data": data,
                    "inEdges": [{"origin": p, "destination": nid} for p in sorted(graph.parents.get(nid, ()))
                                if p in selected],
                    "outEdges": [{"origin": nid, "destination": c} for c in sorted(graph.children.get(nid, ()))
                                 if c in selected]})
    return {"graph": out}
