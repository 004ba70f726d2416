"""``headwater cost waste``: the kill list, each finding with its monthly cost and what to do.

- unread: no reads in ``unread_after`` (no downstream step read it, no query or API read, no
  ingested OpenLineage event names it as an input), and lineage agrees: no product downstream in
  the project DAG and no declared consumer. Saving: all of its cost. A product younger than
  ``unread_after`` is not on the list: it has not yet existed for the window it went unread in.
- unchanged: successful runs that committed the same content as the run before (a fingerprint of
  per-file record counts, sizes, partitions and column bounds, independent of file paths).
  Saving: what those runs cost (compute, scan, per-run).
- over_tiered: the tier promises fresher data than any consumer reads (declared ``reads`` and the
  freshness of downstream products). Keeping a freshness promise takes a run per freshness
  interval; the saving is the measured cost per run times the runs a month the slower tier no
  longer needs.
- beyond_retention: history older than the product's retention (what ``retention apply`` frees).
- long_retention: retention beyond the ``standard`` band whose history costs more than the current
  data, and nobody read an old snapshot (``--as-of``) in the window. At a steady rate of change
  history grows with retention, so the saving is the share of
  today's history cost that the standard band would not keep.

Costs measured in the window (unread, unchanged) become a monthly rate over the time the product
existed in it (``Usage.first_seen``: its first step, or its oldest snapshot if older): cost x
30 days / min(window, age). A product created two days ago spent its cost in two days, not in the
whole window. As in budgets, a product younger than a day counts one day (its cost so far is a
day's), whatever the window: minutes of first runs say nothing about a month. Over-tiered runs, and storage (beyond
and long retention), are priced per run and per GB-month already.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from headwater.cost.attribution import GB, MONTH, attribute
from headwater.cost.retention import plan_product
from headwater.ledger.schema import LineageEventRow
from headwater.spec.types import format_duration, parse_duration

STANDARD = "standard"
DAY = timedelta(days=1)  # the shortest life a monthly rate is taken from (budgets do the same)


@dataclass
class Finding:
    kind: str
    product: str
    domain: str
    owner: str
    monthly_cost: float
    savings_per_month: float
    detail: str
    fix: str
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class WasteReport:
    window: timedelta
    currency: str
    findings: list[Finding]

    @property
    def savings_per_month(self) -> float:
        return sum(f.savings_per_month for f in self.findings)

    def to_dict(self) -> dict:
        return {"window": format_duration(self.window), "currency": self.currency,
                "savings_per_month": self.savings_per_month,
                "findings": [f.to_dict() for f in self.findings]}


def find_waste(service, usage, window: timedelta) -> WasteReport:
    platform = service.platform
    project, cfg = platform.project, service.config
    start, end = usage.now - window, usage.now
    lines = {line.key: line for line in attribute(project, usage, start, end)}
    external = _external_reads(platform, start, end)
    findings: list[Finding] = []
    for name in sorted(project.products):
        product, line = project.products[name], lines[name]
        steps = usage.steps_in(start, end, name)
        run_cost = line.compute_cost + line.scan_cost + line.run_cost
        per_run = run_cost / line.runs if line.runs else 0.0
        lifetime = usage.lifetime_in(name, start, end)  # the window, unless it is younger
        born = usage.first_seen.get(name)
        young = born is not None and end - born < DAY  # its first runs: their cost counts as a day's
        scale = MONTH / (DAY if young else max(lifetime, min(window, DAY)))

        def add(kind, monthly, savings, detail, fix, **evidence):
            findings.append(Finding(kind, name, product.domain, product.owner.team, monthly, savings,
                                    detail, fix, evidence))

        downstream = sorted(project.downstream(name))
        read_gb = line.read_volume_gb + external.get(name, 0) / GB
        if line.read_volume_gb == 0 and name not in external and not downstream \
                and not product.consumers and name in usage.tables and lifetime >= window:
            monthly = line.total_cost * scale  # its share of the fixed control plane is not saved
            add("unread", monthly, (line.total_cost - line.shared_cost) * scale,
                f"no reads in {format_duration(window)}; no product downstream, no declared consumer",
                "retire it (remove the product and drop its table), or declare who reads it under "
                "'consumers:'", runs=line.runs, storage_gb=line.storage_gb, read_gb=read_gb)

        fingerprints = {s.snapshot_id: s.fingerprint for s in usage.tables[name].snapshots} \
            if name in usage.tables else {}
        ok = sorted((s for s in steps if s.status == "success" and s.output_snapshot_id in fingerprints),
                    key=lambda s: s.queued_at)
        same = sum(1 for a, b in zip(ok, ok[1:])
                   if fingerprints[a.output_snapshot_id] == fingerprints[b.output_snapshot_id])
        if same and same >= len(ok) // 2 and per_run > 0:
            add("unchanged", per_run * same * scale, per_run * same * scale,
                f"{same} of {len(ok)} runs committed exactly the content of the run before",
                "run it when its inputs change (schedule it on its inputs' freshness), or less often",
                unchanged_runs=same, runs=len(ok), cost_per_run=per_run,
                existed_days=lifetime / DAY)

        promised = _freshness(project, product)
        needs = [(parse_duration(c.reads), c.name) for c in product.consumers if c.reads]
        needs += [(_freshness(project, project.products[d]), d) for d in downstream]
        if needs and promised < min(needs)[0]:
            fastest, reader = min(needs)
            better = [(t.freshness, n) for n, t in project.tiers.items()
                      if promised < t.freshness <= fastest]
            if better and per_run > 0:  # a product that did not run has no measured cost per run
                slower, tier = max(better)
                now_runs, then_runs = MONTH / promised, MONTH / slower
                add("over_tiered", per_run * now_runs, per_run * (now_runs - then_runs),
                    f"tier {product.tier} promises {format_duration(promised)} freshness; its most "
                    f"frequent reader ({reader}) needs it every {format_duration(fastest)}",
                    f"re-tier to '{tier}' ({format_duration(slower)}) in the product file",
                    tier=product.tier, promised=format_duration(promised),
                    consumed=format_duration(fastest), reader=reader, suggested_tier=tier,
                    runs_per_month=now_runs, runs_per_month_after=then_runs, cost_per_run=per_run)

        if name not in usage.tables:
            continue
        files = usage.tables[name]
        plan = plan_product(project, name, files, usage.now)
        if plan.bytes:
            add("beyond_retention", plan.monthly_cost, plan.monthly_cost,
                f"{len(plan.expire_ids)} snapshots older than its retention ({plan.keep_for}) still "
                f"hold {plan.bytes:,} bytes", f"headwater retention apply --yes {name}",
                snapshots=len(plan.expire_ids), bytes=plan.bytes)
        keep = parse_duration(product.retention.snapshots)
        standard = next((t for t in cfg.retention_tiers if t.name == STANDARD), None)
        tier = cfg.retention_tier(keep)
        travel = _time_travel_reads(files, [r for r in usage.reads_in(start, end) if r.product == name])
        if standard is not None and standard.up_to is not None and keep > standard.up_to \
                and files.history_bytes > files.current_bytes and not travel:
            history_cost = files.history_bytes / GB * cfg.storage_classes[tier.storage_class]
            kept = standard.up_to / keep * files.history_bytes / GB \
                * cfg.storage_classes[standard.storage_class]
            add("long_retention", history_cost, max(history_cost - kept, 0.0),
                f"keeps {format_duration(keep)} of snapshots ({tier.name}); its history is "
                f"{files.history_bytes / max(files.current_bytes, 1):.1f}x its current data",
                f"shorten retention.snapshots to {format_duration(standard.up_to)} unless someone "
                "time-travels that far, then run 'headwater retention apply'",
                retention=format_duration(keep), history_bytes=files.history_bytes,
                current_bytes=files.current_bytes, snapshots=len(files.snapshots))
    findings.sort(key=lambda f: -f.savings_per_month)
    return WasteReport(window, cfg.currency, findings)


def _freshness(project, product) -> timedelta:
    """What a product promises: its own SLO override, else its tier's freshness."""
    if product.slo.freshness is not None:
        return parse_duration(product.slo.freshness)
    return project.tiers[product.tier].freshness


def _time_travel_reads(files, reads) -> int:
    """Reads of a snapshot that was no longer the current one when it was read (history in use)."""
    order = sorted(files.snapshots, key=lambda s: s.committed_at)
    count = 0
    for read in reads:
        current = None
        for snap in order:
            if snap.committed_at <= read.read_at:
                current = snap.snapshot_id
        if read.snapshot_id is not None and current is not None and read.snapshot_id != current:
            count += 1
    return count


def _external_reads(platform, start, end) -> dict[str, int]:
    """Products named as inputs of OpenLineage events ingested from other tools in the window."""
    products = set(platform.project.products)
    found: dict[str, int] = {}
    q = select(LineageEventRow.payload).where(LineageEventRow.origin != "headwater",
                                              LineageEventRow.event_time > start,
                                              LineageEventRow.event_time <= end)
    with Session(platform.ledger.engine) as session:
        for payload in session.scalars(q):
            for dataset in payload.get("inputs") or []:
                tail = str(dataset.get("name", "")).replace("/", ".").rsplit(".", 1)[-1]
                if tail in products:
                    size = ((dataset.get("inputFacets") or {}).get("dataQualityMetrics") or {})
                    found[tail] = found.get(tail, 0) + int(size.get("bytes") or 0)
    return found
