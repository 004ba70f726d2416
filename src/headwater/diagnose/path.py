"""The run DAG behind one run, its critical path, and what-if replays.

Each run's inputs are resolved to the run that last wrote them before it started (or to nothing,
for raw data nobody reported writing); a ``jobDependencies`` upstream run counts as an input too.
An input is *ready* when its producing run completed. The critical path follows, from the target
back, the input that was ready last. A replay recomputes every run's finish with some inputs made
ready earlier: each run keeps its own queueing delay (start minus last input ready) and its own
running time, so the what-if answers "had X arrived at T, the target would have been ready at T'".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from headwater.diagnose.runs import RunIndex, RunRecord


@dataclass
class Input:
    """One thing a run waited for: a dataset (with its producing run) or a declared job run."""

    key: str  # dataset id, or "run:<runId>" for a jobDependencies entry
    ready_at: datetime | None
    producer: RunRecord | None


@dataclass
class Hop:
    run: RunRecord
    inputs: list[Input] = field(default_factory=list)

    @property
    def known(self) -> list[Input]:
        return sorted((i for i in self.inputs if i.ready_at is not None), key=lambda i: i.ready_at)

    @property
    def gating(self) -> Input | None:
        known = self.known
        return known[-1] if known else None

    @property
    def first_ready(self) -> datetime | None:
        known = self.known
        return known[0].ready_at if known else None

    @property
    def waiting_for_inputs(self) -> float:
        """How long some inputs sat ready while the last one was awaited."""
        known = self.known
        return (known[-1].ready_at - known[0].ready_at).total_seconds() if len(known) > 1 else 0.0

    @property
    def queue(self) -> float:
        """From the last input ready to the start: scheduling and queueing delay."""
        gating = self.gating
        if gating is None or self.run.start is None:
            return 0.0
        return max(0.0, (self.run.start - gating.ready_at).total_seconds())

    @property
    def running(self) -> float:
        return self.run.duration or 0.0


class RunDag:
    """The upstream runs of one target run, each with its resolved inputs."""

    def __init__(self, index: RunIndex, target: RunRecord) -> None:
        self.index = index
        self.target = target
        self.hops: dict[str, Hop] = {}
        self._resolve(target)

    def _resolve(self, root: RunRecord) -> None:
        stack = [root]
        while stack:
            run = stack.pop()
            if run.run_id in self.hops:
                continue
            hop = self.hops[run.run_id] = Hop(run)
            cutoff = run.start or run.end
            for dataset in run.inputs:
                producer = self.index.producer(dataset, cutoff) if cutoff else None
                if producer is not None and producer.run_id == run.run_id:
                    producer = None
                hop.inputs.append(Input(dataset, producer.end if producer else None, producer))
                if producer is not None:
                    stack.append(producer)
            for dep in run.depends_on_runs:
                other = self.index.runs.get(dep)
                if other is not None and other.end is not None:
                    hop.inputs.append(Input(f"run:{dep}", other.end, other))
                    stack.append(other)

    def critical_path(self) -> list[Hop]:
        """From the target back to the root, following the input that was ready last."""
        path, seen = [], set()
        hop = self.hops[self.target.run_id]
        while hop is not None and hop.run.run_id not in seen:
            seen.add(hop.run.run_id)
            path.append(hop)
            gating = hop.gating
            hop = self.hops.get(gating.producer.run_id) if gating and gating.producer else None
        return path

    def roots(self) -> list[Input]:
        """Inputs at the top of the DAG: raw data, or data written by runs that read nothing known."""
        out = {}
        for hop in self.hops.values():
            for i in hop.inputs:
                if i.producer is None or not self.hops[i.producer.run_id].inputs:
                    out[i.key] = i
        return list(out.values())

    def replay(self, ready_override: dict[str, datetime] | None = None,
               running_override: dict[str, float] | None = None) -> datetime | None:
        """The target's finish had the given inputs (by key) been ready at the given times, or
        the given runs (by run id) taken the given seconds."""
        ready_override = ready_override or {}
        running_override = running_override or {}
        finish: dict[str, datetime] = {}

        def end_of(run_id: str, depth: int = 0) -> datetime | None:
            if run_id in finish:
                return finish[run_id]
            hop = self.hops[run_id]
            if depth > 500 or hop.run.end is None:
                return hop.run.end
            ready = []
            for i in hop.inputs:
                if i.key in ready_override:
                    ready.append(ready_override[i.key])
                elif i.producer is not None and i.producer.run_id in self.hops:
                    ready.append(end_of(i.producer.run_id, depth + 1) or i.ready_at)
                elif i.ready_at is not None:
                    ready.append(i.ready_at)
            ready = [r for r in ready if r is not None]
            if hop.run.start is None:
                finish[run_id] = hop.run.end
                return hop.run.end
            start = max(ready) + timedelta(seconds=hop.queue) if ready else hop.run.start
            finish[run_id] = start + timedelta(seconds=running_override.get(run_id, hop.running))
            return finish[run_id]

        return end_of(self.target.run_id)
