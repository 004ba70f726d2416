"""The diagnosis capability on the facade: ``Platform.diagnosis``.

``diagnose(TARGET)`` finds the target's run (the latest, ``run=`` a headwater run or an
OpenLineage runId, or the latest finished at ``at=``), resolves the run DAG behind it from the
ledger and OpenLineage run events, and returns ranked findings. Nothing else is instrumented.
"""

from __future__ import annotations

from datetime import datetime

from headwater.diagnose.context import Context
from headwater.diagnose.model import Diagnosis, Finding, hms
from headwater.diagnose.path import RunDag
from headwater.diagnose.runs import RunIndex, RunRecord
from headwater.errors import NotFoundError


class DiagnoseService:
    def __init__(self, platform) -> None:
        self.platform = platform

    def index(self) -> RunIndex:
        from headwater.lineage.store import load_events

        graph = self.platform.lineage.graph()
        index = RunIndex(graph)
        for _, event in load_events(self.platform.ledger):
            index.add_event(event)
        for step in self.platform.ledger.steps():
            index.add_step(step)
        index.finish()
        return index

    def _job_of(self, graph, node_id: str) -> str:
        node = graph.nodes[node_id]
        if node.kind == "job":
            return node_id
        writers = sorted(graph.parents.get(node_id, ()))
        if not writers:
            raise NotFoundError(f"nothing writes {node.namespace}/{node.name}, so it has no runs to diagnose",
                                fix="diagnose the product or job that reads it late instead")
        return writers[0]

    def _run(self, index: RunIndex, job: str, run: str | None, at: datetime | None) -> RunRecord:
        if run:
            if run in index.runs:
                return index.runs[run]
            product = index.graph.nodes[job].attrs.get("product") or index.graph.nodes[job].name
            steps = self.platform.ledger.steps(product=product, run_id=run)
            if steps and steps[0].step_id in index.runs:
                return index.runs[steps[0].step_id]
            raise NotFoundError(f"no run {run!r} of {index.graph.nodes[job].name}",
                                fix="give a headwater run id (headwater runs) or an OpenLineage runId")
        finished = [r for r in index.runs_of(job) if r.end is not None and (at is None or r.end <= at)]
        if not finished:
            raise NotFoundError(f"{index.graph.nodes[job].name} has no finished run"
                                + (f" before {at.isoformat()}" if at else ""),
                                fix="run it first, or ingest its OpenLineage events")
        return max(finished, key=lambda r: r.end)

    def cost_per_hour(self, job_node) -> float:
        product = job_node.attrs.get("product")
        project = self.platform.project
        if product and product in project.products:
            spec = project.products[product]
            if spec.cost.cost_of_delay_per_hour is not None:
                return spec.cost.cost_of_delay_per_hour
            tier = project.tiers.get(spec.tier)
            return tier.cost_of_delay_per_hour if tier else 0.0
        return 0.0

    def diagnose(self, target: str, run: str | None = None, at: datetime | None = None,
                 cost_per_hour: float | None = None) -> Diagnosis:
        """Ranked findings for ``target``; ``cost_per_hour`` overrides the product's or tier's rate."""
        from headwater.diagnose.structure import (
            ghost_sink,
            monitoring_gap,
            redundant_read,
            single_owner,
        )
        from headwater.diagnose.timing import barrier_wait, contention, late_upstream, slow_step

        index = self.index()
        graph = index.graph
        job = self._job_of(graph, self.platform.lineage.resolve(target))
        target_run = self._run(index, job, run, at)
        dag = RunDag(index, target_run)
        rate = self.cost_per_hour(graph.nodes[job]) if cost_per_hour is None else cost_per_hour
        ctx = Context(graph, index, dag, target_run, self.platform.project, rate)
        found: list[Finding] = []
        found += late_upstream(ctx)
        found += barrier_wait(ctx)
        contended, explained = contention(ctx)
        found += contended
        found += slow_step(ctx, explained)
        found += redundant_read(ctx)
        found += ghost_sink(ctx)
        found += monitoring_gap(ctx)
        found += single_owner(ctx)
        found = [f for f in found if f.reportable]  # the one place the minimum delay is applied
        found.sort(key=lambda f: (-f.score, -(f.cost or 0), f.kind, f.culprit))
        return Diagnosis(ctx.label(job), self._symptom(ctx), found,
                         {"owner": ctx.owner(job), "cost_per_hour": ctx.cost_per_hour})

    def _symptom(self, ctx: Context) -> dict:
        run = ctx.target
        roots = [r.ready_at for r in ctx.dag.roots() if r.ready_at is not None]
        earlier = [r.end for r in ctx.index.runs_of(run.job)
                   if r is not run and r.end is not None and run.end is not None and r.end < run.end
                   and r.state == "COMPLETE"]
        usual = None
        if len(earlier) >= 3:
            from statistics import median

            seconds = median(e.hour * 3600 + e.minute * 60 + e.second for e in earlier)
            usual = run.end.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + seconds
            usual = datetime.fromtimestamp(usual, tz=run.end.tzinfo)
        path = ctx.path()
        return {"job": ctx.label(run.job), "product": ctx.product(run.job), "run_id": run.run_id,
                "status": run.state, "started_at": run.start, "ready_at": run.end,
                "usual_ready_at": usual,
                "late_by_seconds": (run.end - usual).total_seconds() if usual and run.end else None,
                "lead_time_seconds": (run.end - min(roots)).total_seconds() if roots and run.end else None,
                "upstream_runs": len(ctx.dag.hops) - 1,
                "critical_path": [ctx.label(h.run.job) for h in path]
                + ([ctx.label(path[-1].gating.key)] if path and path[-1].gating else []),
                "cost_of_delay_per_hour": ctx.cost_per_hour,
                "summary": f"{ctx.label(run.job)} ready at {run.end:%Y-%m-%d %H:%M} UTC"
                + (f", {hms((run.end - usual).total_seconds())} later than usual" if usual else "")}
