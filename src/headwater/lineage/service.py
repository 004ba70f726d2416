"""The lineage capability on the facade: ``Platform.lineage``.

The graph is built once from the project's declarations and every stored event, then kept up
to date incrementally: each read folds in only the events stored since (by ledger row id).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError, NotFoundError
from headwater.lineage.build import apply_event, apply_project
from headwater.lineage.columns import sql_columns
from headwater.lineage.graph import LineageGraph, dataset_id, job_id
from headwater.lineage.impact import ColumnIndex, column_impact, dataset_impact
from headwater.lineage.store import IngestResult, ingest, latest_id, load_events


class LineageService:
    def __init__(self, platform) -> None:
        self.platform = platform
        self._lock = threading.Lock()
        self._graph: LineageGraph | None = None
        self._watermark = 0
        self._sql_memo: dict[tuple, Any] = {}
        self._index: tuple[int, ColumnIndex] | None = None

    # ingest ---------------------------------------------------------------
    def ingest(self, events: Iterable[Any], origin: str = "openlineage") -> IngestResult:
        """Validate and store OpenLineage events (run, job or dataset events); idempotent."""
        return ingest(self.platform.ledger, events, origin)

    def ingest_files(self, paths: list[str]) -> IngestResult:
        """Ingest JSON files (one event or a list) or JSON-lines files; ``-`` reads stdin."""
        events: list[Any] = []
        for path in paths:
            text = sys.stdin.read() if path == "-" else _read(path)
            events.extend(parse_events(text, "stdin" if path == "-" else path))
        return self.ingest(events)

    # the graph ------------------------------------------------------------
    def graph(self) -> LineageGraph:
        with self._lock:
            if self._graph is None:
                self._graph = LineageGraph()
                lake = self.platform.lakehouse
                apply_project(self._graph, self.platform.project, lake.warehouse, lake.namespace)
            new = load_events(self.platform.ledger, self._watermark) \
                if latest_id(self.platform.ledger) > self._watermark else []
            if new:
                self._graph.entry_cache.clear()
            for row_id, payload in new:
                apply_event(self._graph, payload)
                self._watermark = row_id
            if new or self._index is None:
                self._derive_columns(self._graph)
                self._index = (self._watermark, ColumnIndex.build(self._graph, self._refs))
            return self._graph

    def _derive_columns(self, graph: LineageGraph) -> None:
        """Column lineage from each product's SQL where no columnLineage facet gave it."""
        project = self.platform.project
        ns = f"headwater://{project.name}"
        self._refs: dict[str, set[tuple[str, str]]] = {}
        for name, sql in project.sql.items():
            inputs = project.products[name].inputs
            ids = {i: graph.canonical(dataset_id(ns, i)) for i in inputs}
            schema = {i: _schema(graph, nid) for i, nid in ids.items()}
            schema = {k: v for k, v in schema.items() if v}
            key = (sql, json.dumps(schema, sort_keys=True))
            if key not in self._sql_memo:
                self._sql_memo[key] = sql_columns(sql, schema)
            found = self._sql_memo[key]
            out_id = graph.canonical(dataset_id(ns, name))
            job = graph.canonical(job_id(ns, name))
            if found.problem is None:
                self._refs[job] = {(ids[t], c) for t, c in found.references if t in ids}
            cols = graph.columns.setdefault(out_id, {})
            for column, sources in found.outputs.items():
                cols.setdefault(column, [(ids[t], c, k) for t, c, k in sources if t in ids])
        self._derive_foreign(graph, {graph.canonical(job_id(ns, n)) for n in project.sql})

    def _derive_foreign(self, graph: LineageGraph, done: set[str]) -> None:
        """The same for any other job whose events carry a SQL facet (dbt models, SQL operators):
        a table the query names is the input dataset whose name ends with it."""
        for jid, node in graph.nodes.items():
            query = (node.facets.get("sql") or {}).get("query") if node.kind == "job" else None
            inputs = [i for i in graph.parents.get(jid, ()) if i in graph.nodes]
            tested = (node.facets.get("dbtTest") or {}).get("column")
            if tested and inputs and jid not in done:  # a dbt generic test names its column
                self._refs[jid] = {(i, tested) for i in inputs}
                continue
            if not query or jid in done:
                continue
            ids = {graph.nodes[i].name.rsplit(".", 1)[-1].rsplit("/", 1)[-1].lower(): i for i in inputs}
            schema = {t: _schema(graph, i) for t, i in ids.items()}
            key = (query, json.dumps(schema, sort_keys=True))
            if key not in self._sql_memo:
                self._sql_memo[key] = sql_columns(query, {k: v for k, v in schema.items() if v})
            found = self._sql_memo[key]
            if found.problem is not None:
                continue
            self._refs[jid] = {(ids[t.lower()], c) for t, c in found.references if t.lower() in ids}
            for out_id in graph.children.get(jid, ()):
                cols = graph.columns.setdefault(out_id, {})
                for column, sources in found.outputs.items():
                    cols.setdefault(column, [(ids[t.lower()], c, k) for t, c, k in sources if t.lower() in ids])

    def resolve(self, text: str) -> str:
        """The node id of a product, source, node id, ``namespace/name`` or unique name."""
        graph = self.graph()
        ns = f"headwater://{self.platform.project.name}"
        found = graph.find(text, (dataset_id(ns, text),))
        if len(found) == 1:
            return found[0]
        if found:
            raise HeadwaterError(f"{text!r} names {len(found)} nodes",
                                 fix="give the full id, one of: " + ", ".join(found[:5]))
        raise NotFoundError(f"no job or dataset {text!r} in the lineage graph",
                            fix="give a product or source name, a node id like dataset:<namespace>:<name>, "
                                "or ingest events first (headwater lineage ingest FILE)")

    def show(self, text: str, direction: str = "both", depth: int | None = None) -> dict:
        graph = self.graph()
        start = self.resolve(text)
        out = {"node": graph.nodes[start].to_dict()}
        for way in ("upstream", "downstream"):
            if direction in (way, "both"):
                reached = graph.walk(start, way, depth)
                reached.pop(start)
                out[way] = [{**graph.nodes[n].to_dict(), "distance": d}
                            for n, d in sorted(reached.items(), key=lambda x: (x[1], x[0]))]
        return out

    def impact(self, target: str) -> dict:
        """Impact of changing a product, a dataset or ``PRODUCT.COLUMN``."""
        graph = self.graph()
        column = None
        try:
            start = self.resolve(target)
        except NotFoundError:
            if "." not in target:
                raise
            base, _, column = target.rpartition(".")
            start = self.resolve(base)
        if column is None:
            return dataset_impact(graph, start)
        return column_impact(graph, self._index[1], start, self._column(graph, start, base, column))

    def _column(self, graph: LineageGraph, node_id: str, base: str, column: str) -> str:
        """``column`` as the dataset spells it; an error naming the columns there are when the
        dataset's columns are known and it is not one of them (unknown columns: taken as given)."""
        known = sorted(set(_schema(graph, node_id)) | set(graph.columns.get(node_id, {})))
        if not known or column in known:
            return column
        folded = [c for c in known if c.lower() == column.lower()]
        if len(folded) == 1:
            return folded[0]
        shown = ", ".join(known[:40]) + (f" ... ({len(known)} in all)" if len(known) > 40 else "")
        raise NotFoundError(f"{base} has no column {column!r}; its columns: {shown}",
                            fix=f"give one of them, e.g. headwater impact {base}.{known[0]}")

    def marquez(self, node_id: str, depth: int = 20) -> dict:
        from headwater.lineage.marquez import lineage_response

        graph = self.graph()
        return lineage_response(graph, self.resolve(node_id), depth, self.platform.ledger)

    def import_dbt(self, manifest: str, run_results: str | None = None, catalog: str | None = None,
                   contracts_dir: str | None = None, namespace: str | None = None) -> dict:
        from headwater.lineage.dbt import import_dbt

        return import_dbt(self, manifest, run_results, catalog, contracts_dir, namespace)


def _schema(graph: LineageGraph, node_id: str) -> dict[str, str]:
    node = graph.nodes.get(node_id)
    facet = node.facets.get("schema") if node else None
    return {f["name"]: f.get("type") or "unknown" for f in (facet or {}).get("fields") or ()
            if isinstance(f, dict) and f.get("name")}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror}", fix="check the path") from exc


def parse_events(text: str, where: str) -> Iterator[Any]:
    """Events from a JSON document (an event or a list) or from JSON lines."""
    stripped = text.strip()
    if not stripped:
        return iter(())
    try:
        doc = json.loads(stripped)
        return iter(doc if isinstance(doc, list) else [doc])
    except json.JSONDecodeError:
        pass
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise HeadwaterError(f"{where}:{number}: not JSON: {exc.msg}",
                                     fix="give one JSON event, a JSON list, or one event per line") from None
    return iter(out)
