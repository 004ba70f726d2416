"""``headwater retention plan|apply``: expire snapshots past each product's retention and delete
the files no live snapshot references any more.

Per product, a snapshot is kept when it is the current one, a branch or tag head, one of the
newest ``retention.min_snapshots`` snapshots readers could see (the intermediate half of an
overwrite, which no reader ever saw, does not count), or younger than ``retention.snapshots``.
Every other snapshot expires. The files to delete are those an expiring snapshot references and
no kept snapshot does. ``apply`` takes the run lock, plans again on fresh metadata, commits the
expiry, then reads the metadata once more and deletes only files that no remaining snapshot
references: a file a live snapshot references is never deleted, even if a writer raced the plan.
Old ``*.metadata.json`` files are left alone (the catalog's metadata log points at them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from headwater.cost.attribution import GB
from headwater.cost.storage import TableFiles, table_files
from headwater.errors import StorageError
from headwater.spec.types import format_duration, parse_duration


@dataclass
class ProductRetention:
    product: str
    keep_for: str
    min_snapshots: int
    retention_tier: str
    storage_class: str
    snapshots: int
    keep_ids: list[int]
    expire_ids: list[int]
    files: dict[str, int] = field(default_factory=dict)
    monthly_cost: float = 0.0
    freed_bytes: int | None = None
    deleted_files: int | None = None
    skipped_referenced: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(self.files.values())

    def to_dict(self) -> dict:
        return {"product": self.product, "keep_for": self.keep_for, "min_snapshots": self.min_snapshots,
                "retention_tier": self.retention_tier, "storage_class": self.storage_class,
                "snapshots": self.snapshots, "keep": len(self.keep_ids),
                "expire_snapshot_ids": self.expire_ids, "files": len(self.files), "bytes": self.bytes,
                "monthly_cost": self.monthly_cost, "freed_bytes": self.freed_bytes,
                "deleted_files": self.deleted_files, "skipped_referenced": self.skipped_referenced}


@dataclass
class RetentionReport:
    applied: bool
    currency: str
    products: list[ProductRetention]

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.products)

    @property
    def monthly_cost(self) -> float:
        return sum(p.monthly_cost for p in self.products)

    @property
    def freed_bytes(self) -> int | None:
        return sum(p.freed_bytes or 0 for p in self.products) if self.applied else None

    def to_dict(self) -> dict:
        return {"applied": self.applied, "currency": self.currency, "bytes": self.bytes,
                "monthly_cost": self.monthly_cost, "freed_bytes": self.freed_bytes,
                "products": [p.to_dict() for p in self.products]}


def plan_product(project, name: str, files: TableFiles, now) -> ProductRetention:
    """Which snapshots of one table expire and which files go with them (no side effect)."""
    cfg = project.config.cost
    retention = project.products[name].retention
    keep_for = parse_duration(retention.snapshots)
    tier = cfg.retention_tier(keep_for)
    snaps = files.snapshots  # oldest first
    visible = [s for i, s in enumerate(snaps)
               if s.step_id is None or i + 1 == len(snaps) or snaps[i + 1].step_id != s.step_id]
    keep = {s.snapshot_id for s in visible[-retention.min_snapshots:]}
    keep |= {s.snapshot_id for s in snaps if now - s.committed_at < keep_for}
    keep |= set(files.protected_ids)
    if files.current_id is not None:
        keep.add(files.current_id)
    expire = [s.snapshot_id for s in snaps if s.snapshot_id not in keep]
    kept_files = files.live_files(keep)
    doomed = {p: size for p, size in files.live_files(expire).items() if p not in kept_files}
    price = cfg.storage_classes[tier.storage_class]
    return ProductRetention(name, format_duration(keep_for), retention.min_snapshots, tier.name,
                            tier.storage_class, len(snaps), sorted(keep), expire, doomed,
                            sum(doomed.values()) / GB * price)


def plan_retention(service, products: list[str] | None = None) -> RetentionReport:
    platform = service.platform
    usage = service.usage(since=platform.clock.now())  # the tables are all it needs
    names = _names(platform, products)
    plans = [plan_product(platform.project, n, usage.tables[n], usage.now)
             for n in names if n in usage.tables]
    return RetentionReport(False, service.config.currency, plans)


def apply_retention(service, products: list[str] | None = None) -> RetentionReport:
    platform = service.platform
    names = _names(platform, products)
    with platform._run_lock():  # no run commits while history is cut
        steps = {s.step_id: s.finished_at for s in platform.ledger.steps() if s.finished_at}
        now = platform.clock.now()
        out = []
        for name in names:
            if not platform.lakehouse.exists(name):
                continue
            table = platform.lakehouse.load(name)
            plan = plan_product(platform.project, name, table_files(table, name, steps), now)
            if plan.expire_ids:
                _expire_and_delete(platform, table, plan, steps)
            else:
                plan.freed_bytes, plan.deleted_files = 0, 0
            out.append(plan)
    return RetentionReport(True, service.config.currency, out)


def _expire_and_delete(platform, table, plan: ProductRetention, steps) -> None:
    try:
        table.maintenance.expire_snapshots().by_ids(plan.expire_ids).commit()
    except Exception as exc:  # CommitFailedException, ValueError for a protected snapshot...
        raise StorageError(f"expiring snapshots of {plan.product!r} failed: {exc}",
                           fix="nothing was deleted; run 'headwater retention plan' again") from exc
    fresh = platform.lakehouse.load(plan.product)
    referenced = table_files(fresh, plan.product, steps).live_files()
    left = {s.snapshot_id for s in fresh.snapshots()}
    if left & set(plan.expire_ids):
        raise StorageError(f"{plan.product!r} still has snapshots that were expired",
                           fix="another writer committed concurrently; run retention again")
    freed = deleted = 0
    for path in plan.files:
        if path in referenced:
            plan.skipped_referenced.append(path)
            continue
        source = fresh.io.new_input(path)
        if not source.exists():  # gone already (an earlier apply stopped half way)
            continue
        size = len(source)
        fresh.io.delete(path)
        freed += size
        deleted += 1
    plan.freed_bytes, plan.deleted_files = freed, deleted


def _names(platform, products: list[str] | None) -> list[str]:
    project = platform.project
    for name in products or []:
        project.product(name)
    return sorted(products or project.products)
