"""Price a window of usage per product, then roll it up by domain, tier or owner.

Every amount is attributed to exactly one product, so any roll-up sums to the total:

- compute: CPU-hours x ``cpu_hour`` + peak memory GB x wall hours x ``memory_gb_hour``;
- scan: bytes the product's steps read from their inputs x ``scan_gb`` (the reader pays to read);
- egress: bytes of the product's table served by ``query`` and the HTTP API x ``egress_gb``
  (the publisher pays to serve);
- storage: GB-months of the files its current snapshot references at the current storage class,
  plus GB-months of history (files only older live snapshots reference) at the class of its
  retention tier; tables it owns (``<product>__quarantine``) count with it;
- runs: steps run x ``per_run``;
- shared: ``control_plane_per_month`` pro rata to the window, half split evenly across the
  declared products that existed (each occupies the catalog and the ledger whether it runs or
  not) and half by share of steps run (the control plane's work is per run), never for time
  before a product existed; time when no product existed is unattributed (``headwater.cost.shared``).

The product lines therefore sum to the attributed cost; ``shared_split`` gives the unattributed rest.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from headwater.cost.shared import MONTH, SharedSplit, split_shared
from headwater.cost.storage import integrate
from headwater.cost.usage import Usage

GB = 1024 ** 3
GROUPS = ("product", "domain", "tier", "owner")


@dataclass
class CostLine:
    """One product's (or one group's) showback for a window. Amounts in the project's currency."""

    key: str
    pipeline_id: str
    domain: str
    tier: str
    owner: str
    retention_tier: str
    products: int
    runs: int
    failed_runs: int
    rows_written: int
    compute_cpu_hours: float
    memory_gb_hours: float
    idle_hours: float
    storage_gb: float
    history_gb: float
    storage_gb_months: float
    read_volume_gb: float
    downstream_read_gb: float
    egress_gb: float
    scanned_gb: float
    compute_cost: float
    storage_cost: float
    scan_cost: float
    egress_cost: float
    run_cost: float
    shared_cost: float
    total_cost: float
    cost_per_1k_updates: float | None
    cost_per_run: float | None

    def to_dict(self) -> dict:
        return asdict(self)


AMOUNTS = ("runs", "failed_runs", "rows_written", "compute_cpu_hours", "memory_gb_hours", "idle_hours",
           "storage_gb", "history_gb", "storage_gb_months", "read_volume_gb", "downstream_read_gb",
           "egress_gb", "scanned_gb", "compute_cost", "storage_cost", "scan_cost", "egress_cost",
           "run_cost", "shared_cost", "total_cost", "products")
COLUMNS = [f.name for f in fields(CostLine)]


def attribute(project, usage: Usage, start: datetime, end: datetime) -> list[CostLine]:
    """One line per declared product for the window ``[start, end)``."""
    cfg = project.config.cost
    rates = cfg.rates
    names = sorted(project.products)
    steps = usage.steps_in(start, end)
    reads = usage.reads_in(start, end)
    shared_by = split_shared(names, usage.first_seen, steps, start, end,
                             rates.control_plane_per_month).by_product
    downstream: dict[str, int] = {n: 0 for n in names}
    for step in steps:
        for name, size in step.input_bytes.items():
            if name in downstream:
                downstream[name] += size
    lines = []
    for name in names:
        product = project.products[name]
        mine = [s for s in steps if s.product == name]
        served = sum(r.bytes for r in reads if r.product == name)
        cpu_h = sum(s.cpu_seconds for s in mine) / 3600
        mem_gbh = sum(s.peak_memory_bytes / GB * s.wall_seconds / 3600 for s in mine)
        idle_h = sum(s.queued_seconds + max(s.wall_seconds - s.cpu_seconds, 0.0) for s in mine) / 3600
        scanned = sum(s.bytes_read for s in mine)
        tier = cfg.retention_tier(product.retention.snapshots)
        files = usage.tables.get(name)
        owned = ([files] if files else []) + usage.companions.get(name, [])
        spans = [integrate(f.timeline(), start, end) for f in owned]
        cur_bs, hist_bs = sum(c for c, _ in spans), sum(h for _, h in spans)
        month_s = MONTH.total_seconds()
        cur_gbm, hist_gbm = cur_bs / GB / month_s, hist_bs / GB / month_s
        storage_cost = (cur_gbm * cfg.storage_classes[cfg.current_storage_class]
                        + hist_gbm * cfg.storage_classes[tier.storage_class])
        compute_cost = cpu_h * rates.cpu_hour + mem_gbh * rates.memory_gb_hour
        scan_cost = scanned / GB * rates.scan_gb
        egress_cost = served / GB * rates.egress_gb
        run_cost = len(mine) * rates.per_run
        shared = shared_by[name]
        total = math.fsum([compute_cost, storage_cost, scan_cost, egress_cost, run_cost, shared])
        rows = sum(s.rows_written for s in mine if s.status == "success")
        lines.append(CostLine(
            key=name, pipeline_id=name, domain=product.domain, tier=product.tier,
            owner=product.owner.team, retention_tier=tier.name, products=1, runs=len(mine),
            failed_runs=sum(1 for s in mine if s.status == "failed"), rows_written=rows,
            compute_cpu_hours=cpu_h, memory_gb_hours=mem_gbh, idle_hours=idle_h,
            storage_gb=sum(f.stored_bytes for f in owned) / GB,
            history_gb=sum(f.history_bytes for f in owned) / GB,
            storage_gb_months=cur_gbm + hist_gbm,
            read_volume_gb=(downstream[name] + served) / GB, downstream_read_gb=downstream[name] / GB,
            egress_gb=served / GB, scanned_gb=scanned / GB, compute_cost=compute_cost,
            storage_cost=storage_cost, scan_cost=scan_cost, egress_cost=egress_cost,
            run_cost=run_cost, shared_cost=shared, total_cost=total,
            cost_per_1k_updates=total / rows * 1000 if rows else None,
            cost_per_run=total / len(mine) if mine else None))
    return lines


def shared_split(project, usage: Usage, start: datetime, end: datetime) -> SharedSplit:
    """The control plane of ``[start, end)``: per product (as in the lines) and unattributed."""
    return split_shared(project.products, usage.first_seen, usage.steps_in(start, end), start, end,
                        project.config.cost.rates.control_plane_per_month)


def roll_up(lines: list[CostLine], by: str) -> list[CostLine]:
    """Sum product lines into one line per domain, tier or owner (ratios recomputed)."""
    if by == "product":
        return sorted(lines, key=lambda l: -l.total_cost)
    groups: dict[str, list[CostLine]] = {}
    for line in lines:
        groups.setdefault(getattr(line, by), []).append(line)
    out = []
    for key, members in groups.items():
        sums = {a: (sum(getattr(m, a) for m in members) if a in ("runs", "failed_runs", "rows_written",
                                                                  "products")
                    else math.fsum(getattr(m, a) for m in members)) for a in AMOUNTS}
        labels = {f: _one(members, f) for f in ("domain", "tier", "owner", "retention_tier")}
        labels[by] = key
        total, rows, runs = sums["total_cost"], sums["rows_written"], sums["runs"]
        out.append(CostLine(key=key, pipeline_id=",".join(m.pipeline_id for m in members),
                            **labels, **sums,
                            cost_per_1k_updates=total / rows * 1000 if rows else None,
                            cost_per_run=total / runs if runs else None))
    return sorted(out, key=lambda l: -l.total_cost)


def _one(members: list[CostLine], attr: str) -> str:
    values = sorted({getattr(m, attr) for m in members})
    return values[0] if len(values) == 1 else "mixed"
