"""Demo stage 'diagnose': a night in which the supplier feed lands four hours late.

The stage replays four nights of the catalogue and supply pipelines on a simulated clock (one
real second is one simulated minute, so step durations are measured, only scaled). Each night
the raw exports land at their expected time (01:00): the delivery touches the file and its
delivery job reports the landing as an OpenLineage run event, as an SFTP or Airflow sensor would.
A sensor-style scheduler runs every product whose inputs have all landed. On the last night the
supplier export lands at 05:10; the products that need it wait. Then the diagnosis runs on
``dim_products`` (customer-facing) from the ledger and the events alone.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta, timezone

from headwater.clock import Clock
from headwater.ledger.openlineage import DatasetRef, JobRef, run_event

PRODUCTS = ["stg_products", "stg_price_changes", "stg_suppliers", "stg_purchase_orders", "dim_products",
            "supplier_fill_rate"]
LATE_SOURCE, LATE_AT = "raw_suppliers", timedelta(hours=5, minutes=10)
NIGHTS = 4
TARGET = "dim_products"


class SimulatedClock(Clock):
    """Simulated time that runs ``speed`` times faster than the real clock, and can jump ahead."""

    def __init__(self, start: datetime, speed: float = 60.0) -> None:
        self._base, self._t0, self.speed = start, time.perf_counter(), speed

    def now(self) -> datetime:
        return self._base + timedelta(seconds=(time.perf_counter() - self._t0) * self.speed)

    def jump(self, when: datetime) -> None:
        if when > self.now():
            self._base, self._t0 = when, time.perf_counter()


def _land(sim, clock: SimulatedClock, source) -> None:
    """Deliver one source: touch the file at the simulated time and report it as a run event."""
    path = (sim.project.root / source.path).resolve()
    team = source.owner.team if source.owner else "unknown"
    job = JobRef(f"sftp://{team}", f"deliver_{source.name}", owners=[f"team:{team}"])
    run_id = str(uuid.uuid4())
    started = clock.now()
    sim.ledger.record_event(run_event("START", started, run_id, job), origin="delivery")
    clock.jump(clock.now() + timedelta(minutes=2))  # the transfer itself
    landed = clock.now()
    os.utime(path, (landed.timestamp(), landed.timestamp()))
    size = path.stat().st_size
    sim.ledger.record_event(run_event("COMPLETE", landed, run_id, job,
                                      outputs=[DatasetRef("file", str(path), bytes=size)]), origin="delivery")


def _sources(project, product: str) -> set[str]:
    return {i for p in project.upstream_closure([product]) for i in project.products[p].inputs
            if i in project.sources}


def _night(sim, clock: SimulatedClock, day: datetime, late: bool) -> dict[str, str]:
    """Land every source, run what is ready after each landing; returns product -> headwater run id."""
    project = sim.project
    sources = {s for p in PRODUCTS for s in project.products[p].inputs if s in project.sources}
    arrivals = {}
    for name in sources:
        hh, mm = (project.sources[name].expected_arrival or "01:00").split(":")
        arrivals[name] = day + timedelta(hours=int(hh), minutes=int(mm))
        if late and name == LATE_SOURCE:
            arrivals[name] = day + LATE_AT
    landed: set[str] = set()
    done: dict[str, str] = {}
    for when in sorted(set(arrivals.values())):
        clock.jump(when)
        for name in sorted(n for n, t in arrivals.items() if t == when):
            _land(sim, clock, project.sources[name])
            landed.add(name)
        clock.jump(clock.now() + timedelta(minutes=3))  # the sensor's poke interval
        ready = [p for p in PRODUCTS if p not in done
                 and all(s in landed for s in _sources(project, p))]
        if ready:
            result = sim.run(ready, trigger="schedule")
            done.update({p: result.run_id for p in ready})
    return done


def stage(platform, console) -> dict:
    from headwater.diagnose.render import render
    from headwater.platform import Platform

    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight - timedelta(days=NIGHTS)
    clock = SimulatedClock(first)
    sim = Platform(platform.root, clock=clock)
    runs = {}
    for n in range(NIGHTS):
        late = n == NIGHTS - 1
        runs = _night(sim, clock, first + timedelta(days=n), late)
        if console is not None:
            console.print(f"night {n + 1}: supplier feed landed at "
                          f"{'05:10 (late)' if late else '01:00'}; {len(runs)} products ran")
    report = sim.diagnosis.diagnose(TARGET, run=runs[TARGET])
    if console is not None:
        console.print(f"\n[bold]headwater diagnose {TARGET} --run {runs[TARGET]}[/]")
        for audience in ("engineer", "executive"):
            console.print(f"\n[bold]for the {audience}:[/]")
            for line in render(report, audience):
                console.print(line)
    top = report.findings[0] if report.findings else None
    return {"target": TARGET, "run_id": runs[TARGET], "findings": [f.kind for f in report.findings],
            "top": None if top is None else {"kind": top.kind, "culprit": top.culprit,
                                             "delay_seconds": round(top.delay_seconds),
                                             "cost": None if top.cost is None else round(top.cost, 2)}}
