"""Run products in dependency order with bounded parallelism; a failure skips its downstream."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime

from headwater.errors import HeadwaterError
from headwater.lanes.base import StepContext, StepRequest, StepResult, StepStatus, lane_for
from headwater.lanes.meter import ResourceMeter


@dataclass
class RunResult:
    run_id: str
    status: str
    started_at: datetime
    finished_at: datetime
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "status": self.status,
                "started_at": self.started_at.isoformat(), "finished_at": self.finished_at.isoformat(),
                "steps": [s.to_dict() for s in self.steps]}


Progress = Callable[[str, StepResult | None], None]  # (event, result): "start"/"done"


class DagRunner:
    """Executes one run: a set of products, each a step, in topological order."""

    def __init__(self, platform, run_id: str, parallelism: int, progress: Progress | None = None) -> None:
        self.platform = platform
        self.run_id = run_id
        self.parallelism = parallelism
        self.progress = progress or (lambda event, result: None)
        self._emit_lock = threading.Lock()

    def run(self, order: list[str], requests: dict[str, StepRequest]) -> list[StepResult]:
        project = self.platform.project
        selected = set(order)
        parents = {n: [p for p in project.upstream_products(n) if p in selected] for n in order}
        step_ids = {n: self.platform.ledger.queue_step(self.run_id, n, project.products[n].lane,
                                                       requests[n].partition, requests[n].trigger)
                    for n in order}
        results: dict[str, StepResult] = {}
        pending = list(order)
        running: dict[Future, str] = {}
        with ResourceMeter() as meter, ThreadPoolExecutor(self.parallelism,
                                                          thread_name_prefix="headwater-step") as pool:
            while pending or running:
                for name in list(pending):
                    blocked = [p for p in parents[name] if results.get(p) is None]
                    if blocked:
                        continue
                    bad = [p for p in parents[name] if results[p].status is not StepStatus.SUCCESS]
                    if bad:
                        pending.remove(name)
                        results[name] = self._skip(name, step_ids[name], requests[name], bad, results)
                        continue
                    if len(running) >= self.parallelism:
                        break
                    pending.remove(name)
                    self.progress("start", StepResult(name, StepStatus.SUCCESS))
                    ctx = self._context(step_ids[name], meter)
                    running[pool.submit(self._step, ctx, name, requests[name])] = name
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    results[name] = future.result()
                    self.progress("done", results[name])
        return [results[n] for n in order]

    def _context(self, step_id: str, meter: ResourceMeter) -> StepContext:
        p = self.platform
        return StepContext(p.project, p.lakehouse, p.ledger, p.engine, p.clock, meter,
                           self.run_id, step_id, self._emit, gate=p.gate)

    def _emit(self, event: dict) -> None:
        with self._emit_lock:
            self.platform.ledger.record_event(event, origin="headwater")

    def _step(self, ctx: StepContext, name: str, request: StepRequest) -> StepResult:
        product = self.platform.project.products[name]
        try:
            return lane_for(product.lane).run_step(ctx, product, request)
        except HeadwaterError as exc:  # a lane that could not even start: recorded, never raised
            self.platform.ledger.finish_step(ctx.step_id, "failed", error=exc.message)
            return StepResult(name, StepStatus.FAILED, ctx.step_id, request.partition,
                              error=exc.message, fix=exc.fix)

    def _skip(self, name, step_id, request, bad, results) -> StepResult:
        reason = ", ".join(f"{p} {results[p].status.value}" for p in bad)
        message = f"skipped because an input did not succeed ({reason})"
        self.platform.ledger.finish_step(step_id, "skipped", error=message)
        result = StepResult(name, StepStatus.SKIPPED, step_id, request.partition, error=message,
                            fix=f"fix {bad[0]} and run again")
        self.progress("done", result)
        return result
