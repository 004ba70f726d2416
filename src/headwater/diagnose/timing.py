"""Findings about time on the critical path: late_upstream, barrier_wait, slow_step, contention."""

from __future__ import annotations

from datetime import timedelta

from headwater.diagnose.context import Context, at
from headwater.diagnose.model import MIN_DELAY, Finding, hms
from headwater.diagnose.structure import upstream_datasets

SLOW_RATIO = 1.5
CONTENTION_RATIO = 1.3
BARRIER_GAP = timedelta(minutes=15)
LATE_GAP = 15 * 60.0  # seconds: an input landing minutes after the others is ordinary jitter


def late_upstream(ctx: Context) -> list[Finding]:
    """The input at the top of the critical path that arrived after all the others."""
    gated = [h for h in ctx.path() if h.gating is not None]
    culprit = gated[-1].gating if gated else None  # the top of the path: what the chain waited for
    if culprit is None or culprit.ready_at is None:
        return []
    others = [r for r in ctx.dag.roots() if r.key != culprit.key and r.ready_at is not None]
    if not others:
        return []
    with_others = max(o.ready_at for o in others)
    if culprit.ready_at <= with_others:
        return []
    what_if = ctx.dag.replay({culprit.key: with_others})
    delay = (ctx.target.end - what_if).total_seconds() if what_if else 0.0
    if delay < LATE_GAP:
        return []
    name = ctx.label(culprit.key)
    owner = ctx.owner(culprit.key)
    source = ctx.source(culprit.key)
    evidence = {
        "arrived_at": culprit.ready_at, "others_ready_by": with_others,
        "late_by_seconds": (culprit.ready_at - with_others).total_seconds(),
        "delivered_by": ctx.label(culprit.producer.job) if culprit.producer else None,
        "expected_arrival": getattr(source, "expected_arrival", None),
        "owner": owner, "critical_path": [ctx.hop_evidence(h) for h in ctx.path()],
        "what_if": {"arrived_at": with_others, "target_ready_at": what_if, "actual_ready_at": ctx.target.end},
    }
    who = owner.get("team") or ", ".join(owner.get("owners") or ()) or "its producer"
    return [Finding(
        "late_upstream", name, evidence, delay, 0.9,
        f"{name} landed {hms(evidence['late_by_seconds'])} after the other inputs and gated "
        f"{ctx.label(ctx.target.job)}: had it arrived with the others ({at(with_others)}), the target "
        f"would have been ready at {at(what_if)} instead of {at(ctx.target.end)}. "
        + (f"It is expected at {evidence['expected_arrival']} UTC: alert {who} when it is late, instead of "
           f"finding out downstream" if evidence["expected_arrival"] else
           f"Agree an arrival time with {who} and alert on it")
        + "; meanwhile let the steps that do not need it run ahead.",
        ctx.cost(delay))]


def barrier_wait(ctx: Context) -> list[Finding]:
    """A job on the critical path that held most of its inputs, ready long before, for the last one."""
    out = []
    for hop in ctx.path():
        known = hop.known
        if len(known) < 2:
            continue
        last = known[-1]
        # an input the last one is itself made from is a dependency, not a barrier
        feeds_last = _upstream_of(ctx, last)
        known = [i for i in known if i.key not in feeds_last]
        early = [i for i in known[:-1] if last.ready_at - i.ready_at >= BARRIER_GAP]
        if len(early) * 2 < len(known) - 1 or not early:
            continue
        majority_ready = known[(len(known) - 1) // 2].ready_at
        wait = (last.ready_at - majority_ready).total_seconds()
        job = ctx.label(hop.run.job)
        evidence = {"job": job, "run_id": hop.run.run_id, "owner": ctx.owner(hop.run.job), "inputs": len(known),
                    "ready_early": len(early), "waited_for": ctx.label(last.key),
                    "majority_ready_at": majority_ready, "last_ready_at": last.ready_at,
                    "input_ready_times": {ctx.label(i.key): i.ready_at for i in known}}
        out.append(Finding(
            "barrier_wait", job, evidence, wait, 0.7,
            f"{job} waited {hms(wait)} for {ctx.label(last.key)} while {len(early)} of {len(known)} inputs "
            f"were ready: process the inputs that are ready (split the step, or make it incremental per "
            f"input) so one late feed does not hold back the rest.",
            ctx.cost(wait)))
    return out


def _upstream_of(ctx: Context, item) -> set[str]:
    return upstream_datasets(ctx, [item.producer.run_id] if item.producer else [])


def contention(ctx: Context) -> tuple[list[Finding], set[str]]:
    """Runs that share a datasource, overlap in time, and ran slower than their baselines."""
    out, explained = [], set()
    for hop in ctx.dag.hops.values():
        run = hop.run
        base = ctx.index.baseline(run.job, run)
        if base is None or run.duration is None or run.duration < CONTENTION_RATIO * base \
                or run.duration - base < MIN_DELAY / 2:
            continue
        for source in sorted(ctx.datasources(run)):
            overlapping = []
            for other in ctx.index.runs.values():
                if other.job == run.job or source not in ctx.datasources(other):
                    continue
                overlap = run.overlaps(other)
                if overlap > 0:
                    other_base = ctx.index.baseline(other.job, other)
                    overlapping.append({"job": ctx.label(other.job), "run_id": other.run_id,
                                        "overlap_seconds": overlap, "duration_seconds": other.duration,
                                        "baseline_seconds": other_base,
                                        "inflated": bool(other_base and other.duration
                                                         and other.duration >= CONTENTION_RATIO * other_base)})
            if not overlapping:
                continue
            what_if = ctx.dag.replay(running_override={run.run_id: base})
            delay = (ctx.target.end - what_if).total_seconds() if what_if else 0.0
            inflated = sum(o["inflated"] for o in overlapping)
            explained.add(run.run_id)
            job = ctx.label(run.job)
            evidence = {"job": job, "run_id": run.run_id, "owner": ctx.owner(run.job), "datasource": source,
                        "duration_seconds": run.duration, "baseline_seconds": base,
                        "inflation": run.duration / base, "overlapping_runs": overlapping}
            out.append(Finding(
                "contention", source, evidence, max(delay, 0.0), 0.6 + (0.2 if inflated else 0.0),
                f"{job} took {hms(run.duration)} against a usual {hms(base)} while "
                f"{len(overlapping)} run(s) of other jobs used {source} at the same time"
                f"{f' ({inflated} of them slower than usual too)' if inflated else ''}: separate the "
                f"workloads (a read replica, or schedule them apart).",
                ctx.cost(delay)))
            break
    return out, explained


def slow_step(ctx: Context, explained: set[str] = frozenset()) -> list[Finding]:
    """A step on the critical path whose own running time far exceeds its baseline."""
    out = []
    for hop in ctx.path():
        run = hop.run
        if run.run_id in explained:
            continue
        base = ctx.index.baseline(run.job, run)
        if base is None or run.duration is None or run.duration < SLOW_RATIO * base:
            continue
        what_if = ctx.dag.replay(running_override={run.run_id: base})
        delay = (ctx.target.end - what_if).total_seconds() if what_if else 0.0
        span = sum(h.running for h in ctx.path()) or 1.0
        job = ctx.label(run.job)
        history = [r.duration for r in ctx.index.runs_of(run.job) if r.duration is not None]
        evidence = {"job": job, "run_id": run.run_id, "owner": ctx.owner(run.job), "duration_seconds": run.duration,
                    "baseline_seconds": base, "ratio": run.duration / base,
                    "share_of_critical_path_running": run.duration / span,
                    "runs_in_baseline": len(history) - 1, "what_if_ready_at": what_if}
        out.append(Finding(
            "slow_step", job, evidence, delay, 0.8 if len(history) > 5 else 0.6,
            f"{job} ran {hms(run.duration)}, {run.duration / base:.1f}x its usual {hms(base)}, and "
            f"that alone delayed {ctx.label(ctx.target.job)} by {hms(delay)}: look at what changed in "
            f"its input volume, plan or resources.",
            ctx.cost(delay)))
    return out
