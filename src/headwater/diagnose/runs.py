"""Runs as diagnosis sees them, from OpenLineage run events (anyone's) and the ledger's steps.

A run is one job's execution: when it started and finished, what it read and wrote (with the
statistics facets' rows and bytes), its parent run, the job runs it declared it depends on
(jobDependencies facet) and the datasource of each dataset it touched. For headwater's own steps
the ledger adds when the step was queued, so waiting in the queue is told apart from running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from headwater.ledger.openlineage import parse_time
from headwater.lineage.graph import LineageGraph


@dataclass
class Stats:
    rows: int | None = None
    bytes: int | None = None


@dataclass
class RunRecord:
    run_id: str
    job: str  # canonical job node id
    start: datetime | None = None
    end: datetime | None = None
    state: str = "RUNNING"
    queued: datetime | None = None
    inputs: dict[str, Stats] = field(default_factory=dict)
    outputs: dict[str, Stats] = field(default_factory=dict)
    parent: str | None = None
    depends_on_runs: list[str] = field(default_factory=list)
    datasources: dict[str, str] = field(default_factory=dict)  # dataset id -> datasource uri/name

    @property
    def finished(self) -> bool:
        return self.end is not None and self.state in ("COMPLETE", "FAIL", "ABORT")

    @property
    def duration(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.start and self.end else None

    def overlaps(self, other: RunRecord) -> float:
        if not (self.start and self.end and other.start and other.end):
            return 0.0
        return max(0.0, (min(self.end, other.end) - max(self.start, other.start)).total_seconds())


def _stats(facets: dict, key: str) -> Stats:
    f = (facets or {}).get(key) or {}
    rows, size = f.get("rowCount"), f.get("size")
    return Stats(rows if isinstance(rows, int) else None, size if isinstance(size, int) else None)


class RunIndex:
    """Every known run, by id and by job, and who wrote each dataset when."""

    def __init__(self, graph: LineageGraph) -> None:
        self.graph = graph
        self.runs: dict[str, RunRecord] = {}
        self.by_job: dict[str, list[RunRecord]] = {}
        self.writers: dict[str, list[RunRecord]] = {}

    def add_event(self, event: dict) -> None:
        run_doc, job_doc = event.get("run"), event.get("job")
        if not isinstance(run_doc, dict) or not isinstance(job_doc, dict):
            return
        g = self.graph
        job = g.canonical(f"job:{job_doc['namespace']}:{job_doc['name']}")
        run = self.runs.get(run_doc["runId"])
        if run is None:
            run = self.runs[run_doc["runId"]] = RunRecord(run_doc["runId"], job)
        when = parse_time(event["eventTime"])
        kind = event.get("eventType") or "OTHER"
        if kind == "START" or (run.start is None or when < run.start) and kind != "OTHER":
            run.start = when if run.start is None or kind == "START" else min(run.start, when)
        if kind in ("COMPLETE", "FAIL", "ABORT"):
            run.end, run.state = when, kind
        facets = run_doc.get("facets") or {}
        parent = facets.get("parent")
        if isinstance(parent, dict) and isinstance(parent.get("run"), dict):
            run.parent = parent["run"].get("runId")
        deps = facets.get("jobDependencies")
        if isinstance(deps, dict):
            run.depends_on_runs = [d["run"]["runId"] for d in deps.get("upstream") or ()
                                   if isinstance(d, dict) and isinstance(d.get("run"), dict)]
        for role, target, stat_key, facet_key in (("inputs", run.inputs, "inputStatistics", "inputFacets"),
                                                  ("outputs", run.outputs, "outputStatistics", "outputFacets")):
            for ds in event.get(role) or ():
                did = g.canonical(f"dataset:{ds['namespace']}:{ds['name']}")
                stats = _stats(ds.get(facet_key), stat_key)
                if did not in target or stats.rows is not None or stats.bytes is not None:
                    target[did] = stats
                source = (ds.get("facets") or {}).get("datasource")
                if isinstance(source, dict) and (source.get("uri") or source.get("name")):
                    run.datasources[did] = source.get("uri") or source.get("name")

    def add_step(self, step) -> None:
        """Join a ledger step (headwater's runId is the step id): queue time, and bytes read."""
        run = self.runs.get(step.step_id)
        if run is not None:
            run.queued = step.queued_at
            run.start = step.started_at or run.start
            run.end = step.finished_at or run.end

    def finish(self) -> None:
        self.by_job.clear()
        self.writers.clear()
        for run in self.runs.values():
            self.by_job.setdefault(run.job, []).append(run)
            if run.state == "COMPLETE" and run.end is not None:
                for ds in run.outputs:
                    self.writers.setdefault(ds, []).append(run)
        for runs in (*self.by_job.values(), *self.writers.values()):
            # by instant, not by text: events may carry any UTC offset
            runs.sort(key=lambda r: (r.end or r.start).timestamp() if (r.end or r.start) else float("-inf"))

    def producer(self, dataset: str, before: datetime) -> RunRecord | None:
        """The latest completed run that wrote ``dataset`` at or before ``before``."""
        found = None
        for run in self.writers.get(dataset, ()):
            if run.end <= before:
                found = run
        return found

    def baseline(self, job: str, before: RunRecord, what: str = "duration") -> float | None:
        """Median duration of the job's earlier completed runs (at least three), else None."""
        values = [r.duration for r in self.by_job.get(job, ())
                  if r is not before and r.state == "COMPLETE" and r.duration is not None
                  and r.start is not None and before.start is not None and r.start < before.start]
        return median(values) if len(values) >= 3 else None

    def runs_of(self, job: str) -> list[RunRecord]:
        return self.by_job.get(job, [])
