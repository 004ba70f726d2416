"""The CDC lane loop: read whole source transactions, gate, merge in one commit, then acknowledge.

    resume: positions <- the mirror's last snapshot summary  ->  source.seek(positions)
    loop:   batch <- source.read()        (whole transactions, in source commit order)
            gate the after-images         (quarantined changes are kept aside, never applied half)
            history.apply(batch)          (optional SCD2 table, its own position in its summary)
            mirror.apply(batch)           (ONE Iceberg commit; summary holds the new positions)
            source.commit(positions)      (slot advanced only now)

A crash anywhere leaves the mirror at its last commit; the source re-delivers from the slot's
confirmed point (or the file offset), and changes at or before the committed position are skipped.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.errors import HeadwaterError, RunFailed
from headwater.lanes.cdc import lineage
from headwater.lanes.cdc.changes import META_COLUMNS, POSITION_COLUMN, Change
from headwater.lanes.cdc.history import History
from headwater.lanes.cdc.mirror import Mirror
from headwater.lanes.gate import PassThroughGate
from headwater.ledger.store import StepMetrics

if TYPE_CHECKING:
    from headwater.spec.product import CdcProduct

PREFIX = "headwater."


@dataclass
class CdcRunResult:
    """What one ``cdc run`` did: outcomes are data."""

    product: str
    run_id: str
    status: str = "success"
    batches: int = 0
    changes: int = 0
    upserts: int = 0
    deletes: int = 0
    quarantined: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    schema_changes: list[dict] = field(default_factory=list)
    position: dict[str, str] = field(default_factory=dict)
    snapshot_id: int | None = None
    seconds: float = 0.0
    error: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def committed(lakehouse, name: str, source_id: str | None = None) -> tuple[dict[str, str], str | None]:
    """The positions and last change position ``source_id`` committed last (another source's
    positions mean nothing to it): from the mirror's current snapshot, or, when another source
    (a replayed log) committed since, from this source's newest snapshot, so it goes on where it
    stopped instead of reading everything again. ({}, None) when it never committed, or its
    snapshots have expired."""
    if not lakehouse.exists(name):
        return {}, None
    snap = lakehouse.current(name)
    summary = snap.summary if snap else {}
    if source_id is not None and summary.get(PREFIX + "cdc.source") != source_id:
        mine = [s for s in lakehouse.snapshots(name) if (s.summary or {}).get(PREFIX + "cdc.source") == source_id]
        if not mine:
            return {}, None
        summary = mine[-1].summary  # the table's snapshots are listed oldest first
    raw = summary.get(PREFIX + "cdc.positions")
    return (json.loads(raw) if raw else {}), summary.get(PREFIX + "cdc.last-change")


class CdcLane:
    KIND = "cdc"

    def __init__(self, platform, product: CdcProduct, source, *, source_id: str,
                 max_batch: int = 50_000, accept_schema_change: bool = False,
                 resnapshot: bool = False) -> None:
        self.platform = platform
        self.product = product
        self.source = source
        self.source_id = source_id
        self.max_batch = max_batch
        self.accept = accept_schema_change
        self.last_change: str | None = None
        self.resnapshot = resnapshot
        self.mirror = Mirror(platform.lakehouse, product.name, product.primary_key,
                             threads=platform.project.config.engine.threads or 4)
        self.history = History(platform.lakehouse, product.name, product.primary_key) \
            if product.cdc.history else None

    def run(self, until_idle: float | None = None, max_batches: int | None = None,
            command: str | None = None) -> CdcRunResult:
        p, ledger, clock = self.platform, self.platform.ledger, self.platform.clock
        run_id = ledger.start_run(p.project.name, "cdc", command, {"products": [self.product.name]})
        result = CdcRunResult(self.product.name, run_id)
        started = time.monotonic()
        positions, self.last_change = ({}, None) if self.resnapshot else \
            committed(p.lakehouse, self.product.name, self.source_id)
        self.source.seek(positions)
        result.position = dict(positions)  # where the mirror stands, even if nothing new is read
        idle_since = time.monotonic()
        try:
            while max_batches is None or result.batches < max_batches:
                batch = self.source.read(self.max_batch, timeout_seconds=1.0 if until_idle is None
                                         else min(1.0, until_idle))
                if not batch.positions or (not batch.records and batch.positions == positions):
                    if until_idle is not None and time.monotonic() - idle_since >= until_idle:
                        break
                    continue
                idle_since = time.monotonic()
                positions = dict(batch.positions)
                self._apply(run_id, batch, positions, result)
                self.source.commit({k: v for k, v in positions.items() if k != "first"})
            result.status = "success"
        except HeadwaterError as exc:
            result.status, result.error, result.fix = "failed", exc.message, exc.fix
        finally:
            result.skipped = dict(getattr(self.source, "skipped", {}) or {})
            ledger.finish_run(run_id, result.status)
            result.seconds = round(time.monotonic() - started, 3)
            _ = clock
        return result

    def _apply(self, run_id: str, batch, positions: dict[str, str], result: CdcRunResult) -> None:
        ledger = self.platform.ledger
        step_id = ledger.queue_step(run_id, self.product.name, "cdc", None, "cdc")
        started = ledger.start_step(step_id)
        lineage.emit(self.platform, "START", started, step_id, run_id, self.product, self.source_id)
        t0 = time.process_time()
        replace = positions.pop("first", None) == "1"
        changes: list[Change] = [r.value for r in batch.records]
        if not replace and self.last_change is not None:  # re-delivered after a crash: applied already
            changes = [c for c in changes if c.position > self.last_change]
        redelivered = len(batch.records) - len(changes)
        try:
            changes, quarantined = self._gate(changes, run_id, step_id, positions)
            props = {"run-id": run_id, "step-id": step_id, "cdc.source": self.source_id,
                     "cdc.positions": json.dumps(positions, sort_keys=True),
                     "cdc.position": positions.get("0") or positions.get("lsn", ""),
                     "cdc.changes": str(len(changes))}
            last = max((c.position for c in changes), default=None if replace else self.last_change)
            if last is not None:
                props["cdc.last-change"] = last
            last_ts = max((c.commit_ts for c in changes if c.commit_ts), default=None)
            if last_ts is not None:
                props["cdc.commit-ts"] = last_ts.isoformat()
            src_pos = getattr(self.source, "last_source_position", None)
            if src_pos:
                props["cdc.source-position"] = json.dumps(src_pos, sort_keys=True, default=str)
            types = getattr(self.source, "column_types", None)
            if self.history is not None:
                self.history.apply(changes, props, types=types, replace=replace)
            applied = self.mirror.apply(changes, props, types=types, replace=replace,
                                        allow_drop=self.accept)
        except HeadwaterError as exc:
            when = ledger.finish_step(step_id, "failed", StepMetrics(rows_read=len(batch.records)),
                                      error=exc.message)
            lineage.emit(self.platform, "FAIL", when, step_id, run_id, self.product, self.source_id,
                         error=exc.message)
            raise
        self.last_change = props.get("cdc.last-change", self.last_change)
        result.batches += 1
        result.changes += applied.changes
        result.upserts += applied.inserted_or_updated
        result.deletes += applied.deleted
        result.quarantined += quarantined
        result.schema_changes += [c.to_dict() for c in applied.schema_changes]
        result.position = positions
        result.snapshot_id = applied.snapshot_id
        finished = ledger.finish_step(step_id, "success", StepMetrics(
            rows_read=len(batch.records), rows_written=applied.inserted_or_updated + applied.deleted,
            cpu_seconds=round(time.process_time() - t0, 4), output_snapshot_id=applied.snapshot_id,
            details={"cdc": {"changes": applied.changes, "upserts": applied.inserted_or_updated,
                             "deletes": applied.deleted, "positions": positions,
                             "redelivered": redelivered,
                             "files_rewritten": applied.stats.files_rewritten,
                             "files_scanned": applied.stats.files_scanned},
                     # observe/: in = applied + quarantined + dropped (re-delivered changes are no loss)
                     "gate": {"passed": applied.changes, "quarantined": quarantined,
                              "filtered": redelivered}}))
        lineage.emit(self.platform, "COMPLETE", finished, step_id, run_id, self.product, self.source_id,
                     rows=applied.inserted_or_updated + applied.deleted)

    def _gate(self, changes: list[Change], run_id: str, step_id: str,
              positions: dict[str, str]) -> tuple[list[Change], int]:
        """Apply the contract gate to the after-images; quarantined changes are not applied."""
        gate = self.platform.gate or PassThroughGate()
        if isinstance(gate, PassThroughGate) or (hasattr(gate, "service") and
                                                 gate.service.plan_for(self.product.name) is None):
            return changes, 0  # no contract: nothing to check
        # the gate sees what would be written: the last full after-image of each key
        from headwater.lanes.cdc.changes import fold
        from headwater.lanes.cdc.mirror import _to_arrow
        from headwater.lanes.cdc.schema import check_schema

        folded = fold(changes, self.product.primary_key)
        states = {k: st for k, st in folded.items() if st.kind == "upsert"}
        if not states:
            return changes, 0
        declared = {**(getattr(self.source, "column_types", None) or {}),
                    **{k: v for c in changes for k, v in (c.types or {}).items()}}
        target, _ = check_schema(self.product.name, self.mirror.schema(), states, declared,
                                 self.product.primary_key, allow_drop=self.accept)
        data = _to_arrow(list(states.values()), target)
        outcome = gate.apply(self.product, data, run_id=run_id, step_id=step_id,
                             source_position=json.dumps(positions, sort_keys=True))
        if outcome.blocked:
            raise RunFailed(f"the contract blocked changes of {self.product.name!r}: {outcome.message}",
                            fix=f"see 'headwater contract check {self.product.name}'; nothing was "
                                "committed and the source was not acknowledged")
        if outcome.quarantined is None or not outcome.quarantined.num_rows:
            return changes, 0
        bad = set(outcome.quarantined.column(POSITION_COLUMN).to_pylist())
        bad_keys = {k for k, st in states.items() if st.position in bad}
        # a quarantined key keeps its committed state: none of its changes in this batch apply
        kept = [c for c in changes if c.key not in bad_keys
                and not (c.row is not None and tuple(c.row.get(k) for k in self.product.primary_key)
                         in bad_keys)]
        return kept, len(bad_keys)


__all__ = ["META_COLUMNS", "CdcLane", "CdcRunResult", "committed"]
