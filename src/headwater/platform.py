"""The facade. The CLI, HTTP API, dashboard and MCP server call only this."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import pyarrow as pa

from headwater.clock import SYSTEM_CLOCK, Clock
from headwater.errors import HeadwaterError, TransientError
from headwater.lanes.base import StepRequest
from headwater.runner import DagRunner, Progress, RunResult
from headwater.settings import Settings
from headwater.spec.loader import find_root, load_project
from headwater.spec.project import Project

# tables a product keeps beside its own, <product>__<kind>, besides a streaming product's windows
COMPANIONS = ("history", "quarantine")


@dataclass
class ProductStatus:
    product: str
    lane: str
    tier: str
    domain: str
    owner: str
    last_status: str | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    rows: int | None
    data_time: datetime | None
    snapshot_id: int | None
    error: str | None

    def to_dict(self) -> dict:
        out = dict(vars(self))
        for key in ("last_run_at", "last_success_at", "data_time"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


class Platform:
    """One project: its spec, lakehouse, ledger and engine, and everything done with them."""

    def __init__(self, project_dir: str | os.PathLike | None = None, *, clock: Clock = SYSTEM_CLOCK,
                 settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.root = find_root(project_dir or self.settings.project)
        self.clock = clock

    @cached_property
    def project(self) -> Project:
        return load_project(self.root)

    @property
    def state_dir(self) -> Path:
        path = self.project.state_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    @cached_property
    def catalog_url(self) -> str:
        if self.settings.catalog_url is not None:
            return self.settings.catalog_url.get_secret_value()
        return self.project.config.catalog.url or f"sqlite:///{self.state_dir / 'catalog.db'}"

    @cached_property
    def ledger_url(self) -> str:
        if self.settings.ledger_url is not None:
            return self.settings.ledger_url.get_secret_value()
        return self.project.config.ledger.url or f"sqlite:///{self.state_dir / 'ledger.db'}"

    @cached_property
    def lakehouse(self):
        from headwater.storage.lakehouse import Lakehouse

        warehouse = self.project.config.catalog.warehouse or str(self.state_dir / "warehouse")
        if "://" not in warehouse and not Path(warehouse).is_absolute():
            warehouse = str(self.root / warehouse)
        commands = {n: f"headwater {'stream' if p.lane == 'streaming' else 'cdc'} run {n}"
                    for n, p in self.project.products.items() if p.lane != "batch"}
        return Lakehouse(self.catalog_url, warehouse, self.project.namespace, commands=commands)

    @cached_property
    def ledger(self):
        from headwater.ledger.store import Ledger

        return Ledger(self.ledger_url, clock=self.clock)

    @cached_property
    def engine(self):
        from headwater.engines.registry import make_engine

        spec = self.project.config.engine
        return make_engine(spec.kind, threads=spec.threads, memory_limit=spec.memory_limit)

    @property
    def gate(self):
        """The contract gate every lane applies before committing (pass-through without contracts)."""
        return self.contracts.gate

    # Capabilities: each is a service object built on this facade, in its own package.
    @cached_property
    def contracts(self):
        from headwater.contracts.service import ContractService

        return ContractService(self)

    @cached_property
    def observe(self):
        from headwater.observe.service import ObserveService

        return ObserveService(self)

    @cached_property
    def lineage(self):
        from headwater.lineage.service import LineageService

        return LineageService(self)

    @cached_property
    def diagnosis(self):
        from headwater.diagnose.service import DiagnoseService

        return DiagnoseService(self)

    @cached_property
    def cost(self):
        from headwater.cost.service import CostService

        return CostService(self)

    @cached_property
    def streaming(self):
        from headwater.lanes.streaming.service import StreamingService

        return StreamingService(self)

    @cached_property
    def cdc(self):
        from headwater.lanes.cdc.service import CdcService

        return CdcService(self)

    def validate(self) -> Project:
        """Load and check the whole project and every product's contract (raises SpecErrors
        listing every problem)."""
        from headwater.errors import SpecError, SpecErrors

        project = self.project
        problems: list[SpecError] = []
        for name in sorted(project.products):
            try:
                self.contracts.plan_for(name)
            except SpecErrors as exc:
                problems.extend(exc.errors)
            except SpecError as exc:
                problems.append(exc)
        if problems:
            raise SpecErrors(problems)
        return project

    @contextmanager
    def _run_lock(self) -> Iterator[None]:
        path = self.state_dir / "run.lock"
        with open(path, "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TransientError("another 'headwater run' is running in this project",
                                     fix="wait for it to finish (see 'headwater status')") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def plan(self, products: list[str] | None = None, upstream: bool = False) -> list[str]:
        project = self.project
        if not products:
            names = {n for n, p in project.products.items() if p.lane == "batch"}
        else:
            for name in products:
                project.product(name)
            names = project.upstream_closure(products) if upstream else set(products)
        return project.topological_order(names)

    def run(self, products: list[str] | None = None, *, partition: str | None = None,
            full_refresh: bool = False, upstream: bool = False, trigger: str = "cli",
            progress: Progress | None = None, command: str | None = None) -> RunResult:
        """Run products (default: every batch product) in dependency order; never raises for a failed step.

        A request that cannot succeed (a stream or CDC product, a malformed --partition, a partition
        of an unpartitioned product) raises before anything is recorded: a typo is not a failed run
        that burns the product's error budget.
        """
        order = self.plan(products, upstream)
        self._check_request(products or [], partition)
        with self._run_lock():
            self.lakehouse.catalog  # open (and create) the catalog once, before steps run in parallel
            self.ledger.reap_dead_runs()
            run_id = self.ledger.start_run(self.project.name, trigger, command,
                                           {"products": order, "partition": partition,
                                            "full_refresh": full_refresh})
            started = self.clock.now()
            requests = {n: StepRequest(n, partition if self.project.products[n].partitioning else None,
                                       full_refresh, trigger) for n in order}
            if partition is not None and products:
                for n in products:  # an explicit product gets the partition even if that is an error
                    requests[n].partition = partition
            steps = DagRunner(self, run_id, self.project.config.run.parallelism, progress).run(order, requests)
            status = "success" if all(s.status.value == "success" for s in steps) else "failed"
            self.ledger.finish_run(run_id, status)
            return RunResult(run_id, status, started, self.clock.now(), steps)

    def _check_request(self, products: list[str], partition: str | None) -> None:
        from datetime import date

        for name in products:
            lane = self.project.products[name].lane
            if lane != "batch":
                command = "stream run" if lane == "streaming" else "cdc run"
                raise HeadwaterError(f"{name!r} is a {lane} product: 'headwater run' runs batch products",
                                     fix=f"headwater {command} {name}")
        if partition is None:
            return
        try:
            date.fromisoformat(partition)
        except ValueError:
            raise HeadwaterError(f"partition {partition!r} is not a date", fix="give --partition as YYYY-MM-DD") from None
        flat = [n for n in products if self.project.products[n].partitioning is None]
        if flat:
            raise HeadwaterError(f"{', '.join(map(repr, flat))} {'is' if len(flat) == 1 else 'are'} not partitioned, "
                                 "so --partition does not apply",
                                 fix="drop --partition, or declare 'partitioning: {column: <date column>}'")

    def status(self) -> list[ProductStatus]:
        out = []
        for name, product in sorted(self.project.products.items()):
            last = self.ledger.latest(name)
            ok = self.ledger.latest(name, status="success")
            rows = None
            if ok is not None and self.lakehouse.exists(name):
                snap = self.lakehouse.current(name)
                rows = snap.rows if snap else None
            out.append(ProductStatus(
                name, product.lane, product.tier, product.domain, product.owner.team,
                last.status if last else None, last.queued_at if last else None,
                ok.finished_at if ok else None, rows, ok.data_time if ok else None,
                ok.output_snapshot_id if ok else None, last.error if last and last.error else None))
        return out

    def query(self, sql: str, as_of: str | None = None, *, channel: str = "query",
              reader: str | None = None) -> pa.Table:
        """Run DuckDB SQL over product tables by name (current snapshot, or ``as_of``).

        The bytes of each product snapshot served are accounted for cost as ``channel``
        (``query``; the HTTP API passes ``api``) and ``reader``."""
        from headwater.spec.sqlrefs import analyse

        reads = analyse(sql, purpose="query")
        if reads.problems:  # whatever tables it names: one read-only statement, no file reads
            problem = reads.problems[0]
            raise HeadwaterError(problem.message, fix=problem.fix)
        # a product's companion is any table it keeps beside its own, <product>__<kind>: history,
        # quarantine, a streaming product's windows (names hold no "__", so the owner is unambiguous)
        companions = {t for t in reads.tables if "__" in t and t.partition("__")[0] in self.project.products
                      and self.lakehouse.exists(t)}
        known = set(self.project.products) | set(self.project.sources) | companions
        unknown = sorted(t for t in reads.tables if t not in known)
        if unknown:
            from headwater.errors import NotFoundError

            kinds = ", ".join(f"<product>__{kind}" for kind in (*COMPANIONS, "<window>"))
            raise NotFoundError(f"no product or source named {unknown[0]!r}",
                                fix=f"tables are products and sources by name: {', '.join(sorted(known))}"
                                    f" (and, once written, a product's companion tables: {kinds})")
        session = self.engine.session()
        served = []
        tables = sorted(t for t in reads.tables if t in self.project.products or t in companions)
        at = self.lakehouse.as_of_each(tables, as_of)  # a snapshot id: its table at it, the others at its time
        try:
            for name in sorted(reads.tables):
                if name in at:
                    served.append(self.lakehouse.plan(name, as_of=at[name]))
                    session.register_plan(name, served[-1])
                elif name in self.project.sources:
                    session.register_source(name, self.project.sources[name], self.project.root)
            result = session.query(sql)
            self.cost.record_reads(served, channel=channel, reader=reader)
            return result
        finally:
            session.close()

    def snapshots(self, product: str):
        self.project.product(product)
        return self.lakehouse.snapshots(product)
