"""What every finding detector needs: the graph, the runs, the target's run DAG, and names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from headwater.diagnose.path import Hop, RunDag
from headwater.diagnose.runs import RunIndex, RunRecord
from headwater.lineage.graph import LineageGraph
from headwater.lineage.naming import uri

LOCAL_NAMESPACES = ("file", "headwater://", "dbt://")


@dataclass
class Context:
    graph: LineageGraph
    index: RunIndex
    dag: RunDag
    target: RunRecord
    project: object | None
    cost_per_hour: float

    def label(self, node_id: str) -> str:
        """``<namespace>/<name>``, preferring a headwater symlink (a product or source name)."""
        if node_id.startswith("run:"):
            run = self.index.runs.get(node_id[4:])
            return self.label(run.job) if run else node_id
        node = self.graph.get(node_id)
        if node is None:
            return node_id.split(":", 1)[-1]
        for ns, name in sorted(node.symlinks):
            if ns.startswith("headwater://"):
                return uri(ns, name)
        return node.uri

    def owner(self, node_id: str) -> dict:
        node = self.graph.get(node_id)
        if node is None:
            return {}
        declared = node.attrs.get("owner") or {}
        out = {"owners": node.owners}
        for key in ("team", "oncall", "people", "runbook"):
            if declared.get(key):
                out[key] = declared[key]
        return out

    def product(self, node_id: str) -> str | None:
        node = self.graph.get(node_id)
        return node.attrs.get("product") if node else None

    def source(self, node_id: str):
        node = self.graph.get(node_id)
        name = node.attrs.get("source") if node else None
        return self.project.sources.get(name) if (name and self.project is not None) else None

    def datasources(self, run: RunRecord) -> set[str]:
        """Datasources a run touched: datasource facets, else network namespaces (naming spec)."""
        found = set(run.datasources.values())
        for did in (*run.inputs, *run.outputs):
            node = self.graph.get(did)
            if node is not None and "://" in node.namespace and not node.namespace.startswith(LOCAL_NAMESPACES):
                if did not in run.datasources:
                    found.add(node.namespace)
        return found

    def cost(self, delay_seconds: float) -> float:
        return max(delay_seconds, 0.0) / 3600 * self.cost_per_hour

    def path(self) -> list[Hop]:
        if not hasattr(self, "_path"):
            self._path = self.dag.critical_path()
        return self._path

    def hop_evidence(self, hop: Hop) -> dict:
        gating = hop.gating
        return {"job": self.label(hop.run.job), "run_id": hop.run.run_id,
                "queued_at": hop.run.queued, "started_at": hop.run.start, "finished_at": hop.run.end,
                "first_input_ready_at": hop.first_ready,
                "last_input": self.label(gating.key) if gating else None,
                "last_input_ready_at": gating.ready_at if gating else None,
                "waiting_for_inputs_seconds": hop.waiting_for_inputs, "queue_seconds": hop.queue,
                "running_seconds": hop.running}


def at(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else "?"
