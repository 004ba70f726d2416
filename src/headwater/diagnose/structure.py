"""Findings about how the pipeline is built: redundant_read, ghost_sink, monitoring_gap, single_owner."""

from __future__ import annotations

from headwater.diagnose.context import Context
from headwater.diagnose.model import Finding

GHOST_MIN_WRITES = 3


def upstream_datasets(ctx: Context, run_ids: list[str]) -> set[str]:
    """Every dataset read by these runs or, transitively, by the runs that produced their inputs."""
    seen, stack, out = set(), list(run_ids), set()
    while stack:
        rid = stack.pop()
        if rid in seen or rid not in ctx.dag.hops:
            continue
        seen.add(rid)
        for i in ctx.dag.hops[rid].inputs:
            out.add(i.key)
            if i.producer is not None:
                stack.append(i.producer.run_id)
    return out


def redundant_read(ctx: Context) -> list[Finding]:
    """A run reading raw data that an upstream run already read and transformed into its input."""
    out = []
    hops = ctx.dag.hops
    for hop in hops.values():
        upstream = upstream_datasets(ctx, [hop.run.run_id])
        for raw in [i for i in hop.inputs if i.producer is None or not hops.get(i.producer.run_id, hop).inputs]:
            for other in hops.values():
                if other is hop or raw.key not in other.run.inputs:
                    continue
                reused = [o for o in other.run.outputs if o in upstream]
                if not reused:
                    continue
                better = reused[0]
                raw_bytes = hop.run.inputs[raw.key].bytes
                out_bytes = other.run.outputs[better].bytes or (hop.run.inputs.get(better) or _none()).bytes
                readers = sum(raw.key in h.run.inputs for h in hops.values())
                factor = raw_bytes / out_bytes if raw_bytes and out_bytes else None
                total = sum(s.bytes or 0 for s in hop.run.inputs.values())
                delay = (hop.running * (raw_bytes - (out_bytes or 0)) / total
                         if raw_bytes and total and factor and factor > 1 else 0.0)
                job = ctx.label(hop.run.job)
                evidence = {"job": job, "run_id": hop.run.run_id, "owner": ctx.owner(hop.run.job), "raw_dataset": ctx.label(raw.key),
                            "already_read_by": ctx.label(other.run.job), "could_read": ctx.label(better),
                            "raw_bytes_read": raw_bytes, "alternative_bytes": out_bytes,
                            "io_amplification": factor, "times_raw_read_in_this_run_dag": readers}
                out.append(Finding(
                    "redundant_read", job, evidence, max(delay, 0.0), 0.6 if factor else 0.4,
                    f"{job} re-reads {ctx.label(raw.key)} although {ctx.label(other.run.job)} already read "
                    f"and transformed it into {ctx.label(better)}, which {job} also reads"
                    + (f"; reading that instead cuts this read {factor:.1f}x" if factor else "")
                    + ".", ctx.cost(delay)))
                break
    return out


def _none():
    from headwater.diagnose.runs import Stats

    return Stats()


def ghost_sink(ctx: Context) -> list[Finding]:
    """Datasets the target's upstream jobs write again and again that nothing reads."""
    out = []
    jobs = {h.run.job for h in ctx.dag.hops.values()}
    target_outputs = set(ctx.target.outputs)
    for dataset, writes in sorted(ctx.index.writers.items()):
        mine = [r for r in writes if r.job in jobs]
        if not mine or dataset in target_outputs or len(writes) < GHOST_MIN_WRITES:
            continue
        readers = ctx.graph.children.get(ctx.graph.canonical(dataset), set())
        node = ctx.graph.get(dataset)
        if readers or (node is not None and node.attrs.get("consumers")):
            continue
        written = sum(r.outputs[dataset].bytes or 0 for r in writes)
        seconds = sum(r.duration or 0 for r in mine)
        name = ctx.label(dataset)
        evidence = {"dataset": name, "writes": len(writes), "bytes_written": written,
                    "last_written_at": writes[-1].end, "writers": sorted({ctx.label(r.job) for r in writes}),
                    "writer_seconds": seconds, "readers": 0, "declared_consumers": 0}
        out.append(Finding(
            "ghost_sink", name, evidence, 0.0, 0.8,
            f"{name} was written {len(writes)} times and nothing reads it and no consumer is declared: "
            f"stop producing it, or declare who reads it.", None))
    return out


def _gaps(ctx: Context, node_id: str) -> tuple[list[str], dict]:
    node = ctx.graph.get(node_id)
    if node is None:
        return [], {}
    product = node.attrs.get("product")
    if product and ctx.project is not None and product in ctx.project.products:
        return [], ctx.owner(node_id)  # a product always has an owner and its tier's objectives
    source = ctx.source(node_id)
    if source is not None:
        missing = ([] if source.owner else ["owner"]) + ([] if source.expected_arrival else ["arrival_objective"])
        return missing, ctx.owner(node_id)
    # a foreign job's objectives are not in its events: only a missing owner is a known gap
    return ([] if node.owners else ["owner"]), ctx.owner(node_id)


def monitoring_gap(ctx: Context) -> list[Finding]:
    """Critical-path jobs and inputs with no owner or no objective: nobody is paged when they slip."""
    out, seen = [], set()
    elements = []
    for hop in ctx.path():
        elements.append(hop.run.job)
        if hop.gating is not None and hop.gating.producer is None:
            elements.append(hop.gating.key)
    for node_id in elements:
        canonical = ctx.graph.canonical(node_id)
        if canonical in seen or canonical == ctx.graph.canonical(ctx.target.job):
            continue
        seen.add(canonical)
        missing, owner = _gaps(ctx, node_id)
        if not missing:
            continue
        name = ctx.label(node_id)
        out.append(Finding(
            "monitoring_gap", name, {"on_critical_path": True, "missing": missing, "owner": owner},
            0.0, 0.9,
            f"{name} is on the critical path of {ctx.label(ctx.target.job)} with no "
            f"{' and no '.join(m.replace('_', ' ') for m in missing)}: declare them so a slip is "
            f"detected where it happens, not by the people downstream.", None))
    return out


def single_owner(ctx: Context) -> list[Finding]:
    """Critical-path jobs known to one person, with no runbook."""
    out, seen = [], set()
    for hop in ctx.path():
        job = ctx.graph.canonical(hop.run.job)
        if job in seen:
            continue
        seen.add(job)
        owner = ctx.owner(job)
        people = owner.get("people") or [o.split(":", 1)[-1] for o in owner.get("owners") or ()
                                         if o.startswith("user:")]
        teams = [o for o in owner.get("owners") or () if o.startswith("team:")]
        declared = ctx.graph.get(job).attrs.get("owner") if ctx.graph.get(job) else None
        if len(people) != 1 or owner.get("runbook") or (not declared and teams):
            continue
        name = ctx.label(job)
        out.append(Finding(
            "single_owner", name, {"person": people[0], "team": owner.get("team"), "runbook": None},
            0.0, 0.7,
            f"Only {people[0]} maintains {name}, on the critical path, and it has no runbook: write "
            f"one and name a second maintainer before the next incident.", None))
    return out
