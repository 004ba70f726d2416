"""Replay: re-submit quarantined rows through the current contract, moving them exactly once.

Three commits, each idempotent, so a crash anywhere is repaired by running replay again:
1. the quarantine marks the rows that now pass with a replay id R (``_hw_replay``) and, in the
   same commit, re-labels the rows that still fail with the rules, reasons and contract version
   they were just judged by (``_hw_id``, run, step, source position and time are kept);
2. the product table gets the marked rows in one append whose snapshot summary carries R;
3. the quarantine drops the rows marked R.
A new replay first finishes any marked rows: if the table already has R, only step 3 remains.
When no row passes, step 1 is a single re-labelling commit (none if the labels did not change),
and a replay blocked by a block rule changes nothing, as a blocked batch does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.contracts import quarantine
from headwater.contracts.duckdb_compiler import BATCH, BITS
from headwater.contracts.evaluate import evaluate, with_row_ids
from headwater.contracts.model import Severity
from headwater.errors import NotFoundError
from headwater.lanes.gate import LANE_RULES

if TYPE_CHECKING:
    from headwater.contracts.duckdb_compiler import Verdict
    from headwater.contracts.results import CheckRun
    from headwater.contracts.service import ContractService

LABELS = ("_hw_rules", "_hw_reasons", "_hw_contract_version")


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
    failures: dict[str, int] = field(default_factory=dict)  # rows failing each quarantine/block rule
    warned: dict[str, int] = field(default_factory=dict)  # rows hitting each warn rule (they still move)
    left_to_lane: int = 0  # rows the streaming lane refused (late, unreadable event time): not replayed

    def to_dict(self) -> dict:
        return dict(vars(self))


def replay(service: ContractService, product: str, ids: list[str] | None = None,
           *, fail_after: str | None = None) -> ReplayResult:
    """Move the quarantined rows of ``product`` (all, or ``ids``) that now pass into its table.

    ``fail_after`` ("mark" or "write") stops after that commit; tests use it to simulate a crash.
    """
    platform = service.platform
    platform.project.product(product)  # an unknown name is a NotFoundError that lists the products
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
    plan, run, verdict = _judge(service, product, rows)
    rid = quarantine.replay_id(rows.column("_hw_id").to_pylist())
    failures, warned = _counts(run)
    result = ReplayResult(product, rid, rows.num_rows, failures=failures, warned=warned,
                          left_to_lane=int(lane.sum()))
    if run.blocking:
        result.blocked = "; ".join(f"{r.check.id}: {r.message or r.check.reason}" for r in run.blocking)
        result.still_failing = rows.num_rows
        return result
    failing = _quarantined(verdict)
    passing = np.ones(rows.num_rows, dtype=bool)
    passing[verdict.failing_rows[failing]] = False
    result.moved, result.still_failing = int(passing.sum()), int((~passing).sum())
    judged = _relabel(rows, verdict, failing, plan.version)
    if not result.moved:
        if not judged.select(LABELS).equals(rows.select(LABELS)):
            _rewrite(platform, product, judged, rid, "relabel")
        return result
    marks = pa.array(np.where(passing, rid, None), pa.string())
    marked = judged.set_column(judged.schema.get_field_index("_hw_replay"), "_hw_replay", marks)
    _rewrite(platform, product, marked, rid, "mark")
    if fail_after == "mark":
        return result
    moving = marked.filter(pa.array(passing))
    return _finish(service, product, quarantine.read(platform.lakehouse, product), moving, rid, result, fail_after)


def _judge(service: ContractService, product: str, rows: pa.Table):
    """The current contract's row rules over ``rows``: (plan, CheckRun, Verdict).

    Row rules only: row_count, freshness and custom SQL judge a delivery, not a handful of
    replayed rows (a row_count minimum would block every replay smaller than it).
    """
    platform = service.platform
    plan = service.plan_for(product)
    if plan is None:  # the contract file was removed after rows were quarantined
        raise NotFoundError(f"{product!r} has no contract to judge its quarantined rows by",
                            fix=f"restore contracts/{product}.yaml (or write a new version), then run "
                                f"`headwater quarantine replay {product}` again")
    plan = replace(plan, checks=tuple(c for c in plan.checks if c.level != "dataset"))
    data = quarantine.strip_meta(rows)
    session = platform.engine.session()
    try:
        session.register_arrow(BATCH, with_row_ids(data))
        existing = None
        if platform.lakehouse.exists(product):  # uniqueness is also checked against the table
            session.register_plan("__hw_existing", platform.lakehouse.plan(product))
            existing = "__hw_existing"
        run, verdict = evaluate(session, plan, data.schema, lakehouse=platform.lakehouse, project=platform.project,
                                now=platform.clock.now(), samples=0, existing=existing)
    finally:
        session.close()
    return plan, run, verdict


def _counts(run: CheckRun) -> tuple[dict[str, int], dict[str, int]]:
    """Failing rows per rule: (quarantine and block rules, warn rules); warn rules keep no row back."""
    failures: dict[str, int] = {}
    warned: dict[str, int] = {}
    for r in run.results:
        if r.failing:
            (warned if r.check.severity is Severity.WARN else failures)[r.check.id] = r.failed_rows
    return failures, warned


def _quarantined(verdict: Verdict) -> np.ndarray:
    """Positions in ``verdict.failing_rows`` of the rows that broke a quarantine rule."""
    hit = np.zeros(len(verdict.failing_rows), dtype=bool)
    for i, check in enumerate(verdict.row_checks):
        if check.severity is Severity.QUARANTINE:
            hit |= (verdict.failing_masks[i // BITS] >> (i % BITS)) & 1 == 1
    return np.flatnonzero(hit)


def _relabel(rows: pa.Table, verdict: Verdict, positions: np.ndarray, version: str) -> pa.Table:
    """``rows`` with the still-failing ones (``positions``) labelled as the gate labels them now:
    every rule they broke (warn rules too), the reasons and ``version``; other columns kept."""
    if not len(positions):
        return rows
    at = verdict.failing_rows[positions]
    rules, reasons = quarantine.broken_lists(positions, verdict)  # the gate's own labelling
    n = rows.num_rows
    take = np.arange(n)
    take[at] = n + np.arange(len(at))  # row i takes its new label from the appended chunk
    new = {"_hw_rules": rules, "_hw_reasons": reasons,
           "_hw_contract_version": pa.array([version] * len(at), pa.string())}
    out = rows
    for name, values in new.items():
        old = rows.column(name)
        column = pa.chunked_array(old.chunks + [values.cast(old.type)], old.type).take(pa.array(take))
        out = out.set_column(out.schema.get_field_index(name), rows.schema.field(name), column)
    return out


def _rewrite(platform, product: str, rows: pa.Table, rid: str, step: str) -> None:
    """Replace ``rows`` (by ``_hw_id``) in the quarantine in one commit of their batch keys."""
    all_rows = quarantine.read(platform.lakehouse, product)
    keys = sorted(set(rows.column("_hw_batch").to_pylist()))
    others = all_rows.filter(pc.and_(pc.is_in(all_rows.column("_hw_batch"), pa.array(keys)),
                                     pc.invert(pc.is_in(all_rows.column("_hw_id"), rows.column("_hw_id")))))
    quarantine.write(platform.lakehouse, product, pa.concat_tables([others, rows.cast(others.schema)]),
                     keys, {"replay-id": rid, "replay-step": step})


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
