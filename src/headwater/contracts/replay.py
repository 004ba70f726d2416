"""Replay: re-submit quarantined rows through the current contract, moving them exactly once.

Three commits, each idempotent, so a crash anywhere is repaired by running replay again:
1. the quarantine marks the rows that now pass with a replay id R (``_hw_replay``);
2. the product table gets those rows in one append whose snapshot summary carries R;
3. the quarantine drops the rows marked R.
A new replay first finishes any marked rows: if the table already has R, only step 3 remains.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.contracts import quarantine
from headwater.contracts.duckdb_compiler import BATCH
from headwater.contracts.evaluate import evaluate, with_row_ids
from headwater.contracts.model import Severity
from headwater.errors import NotFoundError
from headwater.lanes.gate import LANE_RULES

if TYPE_CHECKING:
    from headwater.contracts.service import ContractService


@dataclass
class ReplayResult:
    product: str
    replay_id: str | None
    considered: int = 0
    moved: int = 0
    still_failing: int = 0
    blocked: str | None = None
    resumed: bool = False
    snapshot_id: int | None = None
    failures: dict[str, int] = field(default_factory=dict)
    left_to_lane: int = 0  # rows the streaming lane refused (late, unreadable event time): not replayed

    def to_dict(self) -> dict:
        return dict(vars(self))


def replay(service: ContractService, product: str, ids: list[str] | None = None,
           *, fail_after: str | None = None) -> ReplayResult:
    """Move the quarantined rows of ``product`` (all, or ``ids``) that now pass into its table.

    ``fail_after`` ("mark" or "write") stops after that commit; tests use it to simulate a crash.
    """
    platform = service.platform
    spec = platform.project.product(product)
    rows = quarantine.read(platform.lakehouse, product)
    if rows is None or rows.num_rows == 0:
        return ReplayResult(product, None)
    pending = rows.filter(pc.is_valid(rows.column("_hw_replay")))
    if pending.num_rows:
        rid = pending.column("_hw_replay")[0].as_py()
        moving = rows.filter(pc.equal(rows.column("_hw_replay"), rid))
        result = ReplayResult(product, rid, moving.num_rows, moving.num_rows, resumed=True)
        return _finish(service, product, rows, moving, rid, result, fail_after)
    if ids:
        rows = rows.filter(pc.is_in(rows.column("_hw_id"), pa.array(ids, pa.string())))
        if rows.num_rows == 0:
            raise NotFoundError(f"none of those ids is in the quarantine of {product!r}",
                                fix=f"list them with 'headwater quarantine show {product}'")
    lane = _lane_refused(rows)
    if lane.any():
        rows = rows.filter(pa.array(~lane))
    if rows.num_rows == 0:
        return ReplayResult(product, None, left_to_lane=int(lane.sum()))
    plan = service.plan_for(product)
    # row rules only: row_count, freshness and custom SQL judge a delivery, not a handful of
    # replayed rows (a row_count minimum would block every replay smaller than it)
    plan = replace(plan, checks=tuple(c for c in plan.checks if c.level != "dataset"))
    data = quarantine.strip_meta(rows)
    session = platform.engine.session()
    try:
        session.register_arrow(BATCH, with_row_ids(data))
        existing = None
        if platform.lakehouse.exists(product):
            session.register_plan("__hw_existing", platform.lakehouse.plan(product))
            existing = "__hw_existing"
        run, verdict = evaluate(session, plan, data.schema, lakehouse=platform.lakehouse, project=platform.project,
                                now=platform.clock.now(), samples=0, existing=existing)
    finally:
        session.close()
    rid = quarantine.replay_id(rows.column("_hw_id").to_pylist())
    result = ReplayResult(product, rid, rows.num_rows, failures=run.failures(), left_to_lane=int(lane.sum()))
    if run.blocking:
        result.blocked = "; ".join(f"{r.check.id}: {r.message or r.check.reason}" for r in run.blocking)
        result.still_failing = rows.num_rows
        return result
    fail = np.zeros(len(verdict.failing_rows), dtype=bool)
    for i, check in enumerate(verdict.row_checks):
        if check.severity is Severity.QUARANTINE:
            word, bit = divmod(i, 62)
            fail |= (verdict.failing_masks[word] >> bit) & 1 == 1
    bad = set(verdict.failing_rows[fail].tolist())
    passing = np.array([i not in bad for i in range(rows.num_rows)], dtype=bool)
    result.moved, result.still_failing = int(passing.sum()), int((~passing).sum())
    if not result.moved:
        return result
    marks = pa.array([rid if ok else None for ok in passing], pa.string())
    marked_rows = rows.set_column(rows.schema.get_field_index("_hw_replay"), "_hw_replay", marks)
    all_rows = quarantine.read(platform.lakehouse, product)
    keys = sorted(set(rows.column("_hw_batch").to_pylist()))
    others = all_rows.filter(pc.and_(pc.is_in(all_rows.column("_hw_batch"), pa.array(keys)),
                                     pc.invert(pc.is_in(all_rows.column("_hw_id"), rows.column("_hw_id")))))
    quarantine.write(platform.lakehouse, product, pa.concat_tables([others, marked_rows.cast(others.schema)]),
                     keys, {"replay-id": rid, "replay-step": "mark"})
    if fail_after == "mark":
        return result
    moving = marked_rows.filter(pa.array(passing))
    return _finish(service, product, quarantine.read(platform.lakehouse, product), moving, rid, result, fail_after)


def _lane_refused(rows: pa.Table) -> np.ndarray:
    """Rows quarantined by the streaming lane's own rules (lanes/gate.py LANE_RULES)."""
    rules = rows.column("_hw_rules").combine_chunks()
    hit = pc.is_in(pc.list_flatten(rules), pa.array(LANE_RULES, pa.string())).to_numpy(zero_copy_only=False)
    out = np.zeros(rows.num_rows, dtype=bool)
    out[pc.list_parent_indices(rules).to_numpy()[hit]] = True
    return out


def _finish(service, product, rows, moving, rid, result, fail_after) -> ReplayResult:
    platform = service.platform
    applied = platform.lakehouse.exists(product) and any(
        s.summary.get("headwater.replay-id") == rid for s in platform.lakehouse.snapshots(product))
    if not applied:
        snap = platform.lakehouse.write(product, quarantine.strip_meta(moving), mode="append",
                                        properties={"replay-id": rid, "mode": "replay",
                                                    "run-id": f"replay-{rid}", "step-id": f"replay-{rid}"})
        result.snapshot_id = snap.snapshot_id
    if fail_after == "write":
        return result
    keys = sorted(set(moving.column("_hw_batch").to_pylist()))
    keep = rows.filter(pc.and_(pc.is_in(rows.column("_hw_batch"), pa.array(keys)),
                               pc.invert(pc.fill_null(pc.equal(rows.column("_hw_replay"), rid), False))))
    quarantine.write(platform.lakehouse, product, keep, keys, {"replay-id": rid, "replay-step": "remove"})
    return result
