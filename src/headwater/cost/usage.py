"""What was used, loaded once per report: ledger steps, reads served, and table file sets.

A ``Usage`` is a frozen picture of the ledger and the lakehouse at one moment; attribution
prices any window of it, so a trend of twelve buckets reads the metadata once.

It also says since when each product exists (``first_seen``): the first step the ledger
recorded for it (queued, of any status), or its oldest live snapshot if that is older (a table
loaded outside headwater, or a ledger that lost rows). A product's declaration in a YAML file
carries no date, and its table is created by its first step, so the ledger is the record of
when the control plane started carrying it. Shared cost is attributed to a product only from
then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from headwater.cost.schema import ReadRow
from headwater.cost.storage import TableFiles, table_files
from headwater.ledger.schema import StepRow

RUN_STATUSES = ("success", "failed")
COMPANION_SEPARATOR = "__"  # identifiers have no "__", so <product>__<x> is a product's own table


@dataclass(frozen=True)
class StepUse:
    product: str
    status: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cpu_seconds: float
    peak_memory_bytes: int
    rows_written: int
    bytes_read: int
    output_snapshot_id: int | None
    input_bytes: dict[str, int]  # product input -> bytes of the snapshot the step read

    @property
    def wall_seconds(self) -> float:
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return max((self.finished_at - self.started_at).total_seconds(), 0.0)

    @property
    def queued_seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        return max((self.started_at - self.queued_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class ServedRead:
    product: str
    snapshot_id: int | None
    channel: str
    reader: str | None
    bytes: int
    rows: int
    read_at: datetime


@dataclass
class Usage:
    now: datetime
    steps: list[StepUse] = field(default_factory=list)
    reads: list[ServedRead] = field(default_factory=list)
    tables: dict[str, TableFiles] = field(default_factory=dict)
    # tables a product owns besides its own, e.g. <product>__quarantine: priced with the product
    companions: dict[str, list[TableFiles]] = field(default_factory=dict)
    # product -> when it came to exist (see the module docstring); absent: not yet
    first_seen: dict[str, datetime] = field(default_factory=dict)

    def steps_in(self, start: datetime, end: datetime, product: str | None = None) -> list[StepUse]:
        return [s for s in self.steps if start < s.queued_at <= end
                and (product is None or s.product == product)]

    def reads_in(self, start: datetime, end: datetime) -> list[ServedRead]:
        return [r for r in self.reads if start < r.read_at <= end]

    def lifetime_in(self, product: str, start: datetime, end: datetime) -> timedelta:
        """How long ``product`` existed within ``[start, end]``: from ``first_seen`` (or ``start``
        if it is older) to ``end``; zero for a product that did not exist by ``end``."""
        born = self.first_seen.get(product)
        if born is None:
            return timedelta(0)
        return max(end - max(born, start), timedelta(0))


def load_usage(platform, since: datetime | None = None) -> Usage:
    """Read the ledger (steps and reads from ``since``) and every product table's metadata."""
    project, ledger = platform.project, platform.ledger
    with Session(ledger.engine) as session:  # every step's finish time dates the snapshot it wrote
        step_times = {sid: at for sid, at in session.execute(
            select(StepRow.step_id, StepRow.finished_at).where(StepRow.finished_at.is_not(None)))}
    tables: dict[str, TableFiles] = {}
    for name in project.products:
        if platform.lakehouse.exists(name):
            tables[name] = table_files(platform.lakehouse.load(name), name, step_times)
    companions: dict[str, list[TableFiles]] = {}
    for table in platform.lakehouse.tables():
        owner, sep, _ = table.partition(COMPANION_SEPARATOR)
        if sep and owner in project.products:
            companions.setdefault(owner, []).append(
                table_files(platform.lakehouse.load(table), table, step_times))
    data_bytes = {name: {s.snapshot_id: sum(size for path, size in s.files.items() if path in s.data_files)
                         for s in files.snapshots} for name, files in tables.items()}
    usage = Usage(platform.clock.now(), tables=tables, companions=companions,
                  first_seen=_first_seen(project, ledger, tables, companions))
    for row in ledger.steps(since=since):
        if row.product not in project.products or row.status not in RUN_STATUSES:
            continue
        usage.steps.append(StepUse(
            row.product, row.status, row.queued_at, row.started_at, row.finished_at,
            float(row.cpu_seconds or 0.0), int(row.peak_memory_bytes or 0),
            int(row.rows_written or 0), int(row.bytes_read or 0), row.output_snapshot_id,
            _input_bytes(project, data_bytes, row.input_snapshots or {}, int(row.bytes_read or 0))))
    query = select(ReadRow) if since is None else select(ReadRow).where(ReadRow.read_at >= since)
    with Session(ledger.engine) as session:
        for r in session.scalars(query):
            usage.reads.append(ServedRead(r.product, r.snapshot_id, r.channel, r.reader, int(r.bytes), int(r.rows),
                                          r.read_at))
    return usage


def _first_seen(project, ledger, tables: dict[str, TableFiles],
                companions: dict[str, list[TableFiles]]) -> dict[str, datetime]:
    """When each declared product first appears: its first step in the whole ledger (not only
    from ``since``: a budget for this month must know the product ran last month), or the oldest
    live snapshot of a table it owns, whichever is older."""
    with Session(ledger.engine) as session:
        seen = {product: at for product, at in session.execute(
            select(StepRow.product, func.min(StepRow.queued_at)).group_by(StepRow.product))
            if product in project.products and at is not None}
    for name in project.products:
        owned = ([tables[name]] if name in tables else []) + companions.get(name, [])
        for files in owned:
            if files.snapshots:
                oldest = files.snapshots[0].committed_at  # sorted oldest first
                seen[name] = min(seen.get(name, oldest), oldest)
    return seen


def _input_bytes(project, data_bytes: dict[str, dict[int, int]], inputs: dict[str, str],
                 bytes_read: int) -> dict[str, int]:
    """Bytes a step read from each product input: that snapshot's data files when still live;
    otherwise the rest of the step's ``bytes_read``, split evenly among the inputs not found."""
    known: dict[str, int] = {}
    unknown: list[str] = []
    sources_bytes_unknown = any(name not in project.products for name in inputs)
    for name, version in inputs.items():
        if name not in project.products:
            continue
        size = None
        if str(version).lstrip("-").isdigit():
            size = data_bytes.get(name, {}).get(int(version))
        if size is not None:
            known[name] = size
        else:
            unknown.append(name)
    if unknown:
        rest = max(bytes_read - sum(known.values()), 0)
        share = len(unknown) + (1 if sources_bytes_unknown else 0)
        for name in unknown:
            known[name] = rest // share
    return known
