"""Impact analysis: what a change to a dataset (or one of its columns) reaches, and who to tell.

Dataset level: everything downstream. Column level (a rename, a type change, a drop): jobs whose
query references the column *break*; columns derived from it (transitively, through SQL-derived
or columnLineage-facet lineage) are *changed*; everything downstream of a broken job goes
*stale*. Declared consumers and dbt exposures of every reached dataset are listed with owners.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from headwater.lineage.graph import LineageGraph


@dataclass
class ColumnIndex:
    """Column lineage both ways, on canonical dataset ids."""

    derived: dict[tuple[str, str], set[tuple[str, str, str]]] = field(default_factory=dict)
    readers: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (ds, col) -> jobs
    known_refs: set[str] = field(default_factory=set)  # jobs whose referenced columns are known

    @classmethod
    def build(cls, graph: LineageGraph, refs: dict[str, set[tuple[str, str]]]) -> ColumnIndex:
        index = cls()
        for out_ds, columns in graph.columns.items():
            out_ds = graph.canonical(out_ds)
            for out_col, sources in columns.items():
                for src_ds, src_col, kind in sources:
                    key = (graph.canonical(src_ds), src_col)
                    index.derived.setdefault(key, set()).add((out_ds, out_col, kind))
        for job, cols in refs.items():
            job = graph.canonical(job)
            index.known_refs.add(job)
            for ds, col in cols:
                index.readers.setdefault((graph.canonical(ds), col), set()).add(job)
        return index


def _entry(graph: LineageGraph, node_id: str, **extra) -> dict:
    cached = graph.entry_cache.get(node_id)
    if cached is None:
        cached = graph.entry_cache[node_id] = _describe(graph, node_id)
    return {**cached, **extra} if extra else dict(cached)


def _describe(graph: LineageGraph, node_id: str) -> dict:
    node = graph.nodes[node_id]
    out = {"id": node.id, "type": node.kind.upper(), "namespace": node.namespace, "name": node.name,
           "uri": node.uri, "label": node.label, "owners": node.owners}
    for key in ("product", "source", "tier", "domain"):
        if node.attrs.get(key):
            out[key] = node.attrs[key]
    owner = node.attrs.get("owner") or {}
    if owner.get("oncall"):
        out["oncall"] = owner["oncall"]
    return out


def _consumers(graph: LineageGraph, node_ids) -> list[dict]:
    out, seen = [], set()
    for nid in node_ids:
        node = graph.nodes[nid]
        if not node.attrs:
            continue
        for c in node.attrs.get("consumers") or ():
            key = (c.get("name"), node.attrs.get("product"))
            if key not in seen:
                seen.add(key)
                out.append({"name": c.get("name"), "owner": c.get("owner"), "reads": c.get("reads"),
                            "via": node.label, "kind": "declared"})
        if node.kind == "job" and node.attrs.get("exposure"):
            key = (node.name, "exposure")
            if key not in seen:
                seen.add(key)
                out.append({"name": node.name, "owner": ", ".join(node.owners) or None,
                            "via": node.attrs.get("exposure"), "kind": "dbt exposure"})
    return sorted(out, key=lambda c: (c["via"] or "", c["name"] or ""))


def dataset_impact(graph: LineageGraph, start: str, depth: int | None = None) -> dict:
    reached = graph.walk(start, "downstream", depth)
    reached.pop(start, None)
    datasets, jobs = [], []
    for nid, distance in sorted(reached.items(), key=lambda kv: (kv[1], kv[0])):
        entry = _entry(graph, nid, distance=distance)
        (datasets if entry["type"] == "DATASET" else jobs).append(entry)
    return {"target": _entry(graph, start), "column": None, "datasets": datasets, "jobs": jobs,
            "consumers": _consumers(graph, [start, *reached])}


def column_impact(graph: LineageGraph, index: ColumnIndex, start: str, column: str) -> dict:
    """What renaming or changing ``column`` of dataset ``start`` reaches."""
    changed: dict[tuple[str, str], tuple[str, str] | None] = {(start, column): None}
    broken: dict[str, list[str]] = {}
    unknown: set[str] = set()
    queue = deque([(start, column)])
    name = graph.nodes[start].label
    for job in index.readers.get((start, column), ()):  # only the changed column's own readers break
        broken[job] = [f"{name}.{column}"]
    for job in graph.children.get(start, ()):
        if job not in index.known_refs and job not in broken:
            unknown.add(job)
    while queue:
        ds, col = queue.popleft()
        for out_ds, out_col, _kind in index.derived.get((ds, col), ()):
            if (out_ds, out_col) not in changed:
                changed[(out_ds, out_col)] = (ds, col)
                queue.append((out_ds, out_col))
    stale: dict[str, int] = {}
    for job in broken:
        for nid, dist in graph.walk(job, "downstream").items():
            if nid != job and nid not in broken:
                stale[nid] = min(dist, stale.get(nid, dist))
    unknown -= set(broken)
    touched = {ds for ds, _ in changed} | set(broken) | set(stale) | unknown
    return {
        "target": _entry(graph, start), "column": column,
        "broken_jobs": [_entry(graph, j, references=sorted(set(cols))) for j, cols in sorted(broken.items())],
        "changed_columns": [{"dataset": graph.nodes[ds].uri, "product": graph.nodes[ds].attrs.get("product"),
                             "label": graph.nodes[ds].label, "column": col,
                             "from": None if src is None else f"{graph.nodes[src[0]].label}.{src[1]}"}
                            for (ds, col), src in changed.items() if (ds, col) != (start, column)],
        "stale": [_entry(graph, n, distance=d) for n, d in sorted(stale.items(), key=lambda x: (x[1], x[0]))],
        "unknown_use": [_entry(graph, j) for j in sorted(unknown)],
        "consumers": _consumers(graph, touched),
    }
