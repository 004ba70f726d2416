"""``Platform.cdc``: run, replay and report the CDC products of a project."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import HeadwaterError
from headwater.lanes.cdc.lane import PREFIX, CdcLane, CdcRunResult, committed

if TYPE_CHECKING:
    from headwater.spec.product import CdcProduct


@dataclass
class CdcStatus:
    product: str
    source: str
    position: dict[str, str]
    last_lsn: str | None
    committed_at: datetime | None
    source_commit_ts: datetime | None
    rows: int | None
    lag_bytes: int | None
    lag_records: int | None
    lag_seconds: float | None
    changes_per_second: float | None
    last_status: str | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        for k in ("committed_at", "source_commit_ts"):
            out[k] = out[k].isoformat() if out[k] else None
        return out


class CdcService:
    def __init__(self, platform) -> None:
        self.platform = platform

    def products(self) -> list[CdcProduct]:
        return [p for _, p in sorted(self.platform.project.products.items()) if p.lane == "cdc"]

    def product(self, name: str) -> CdcProduct:
        product = self.platform.project.product(name)
        if product.lane != "cdc":
            cdc = ", ".join(p.name for p in self.products()) or "none in this project"
            raise HeadwaterError(f"{name!r} is a {product.lane} product, not a CDC product",
                                 fix=f"CDC products: {cdc}")
        return product

    def _url(self, product: CdcProduct) -> str | None:
        url = product.cdc.source.url
        if url and url.startswith("env:"):
            import os

            url = os.environ.get(url[4:])
            if not url:
                raise HeadwaterError(f"{product.name}: cdc.source.url names ${product.cdc.source.url[4:]}, "
                                     "which is not set", fix=f"export {product.cdc.source.url[4:]}=...")
        return url

    def open_source(self, product: CdcProduct, file: str | Path | None = None, source=None):
        """The configured source of ``product`` (or a Debezium file, or ``source``: another
        CdcSourceSpec) and its identity."""
        from headwater.sources.base import make_source

        spec = source or product.cdc.source
        if file is None and spec.kind == "debezium" and spec.options.get("carrier"):
            from headwater.sources.debezium_carrier import DebeziumCarrierSource

            opts = dict(spec.options)
            carrier = opts.pop("carrier")
            src = DebeziumCarrierSource(carrier, product.primary_key, spec.table, url=spec.url,
                                        stream=opts.pop("stream", None), group=opts.pop("group", None),
                                        options=opts, state_dir=self.platform.state_dir,
                                        product=product.name)
            return src, f"debezium+{carrier}:{spec.url or product.name}"
        if file is not None or spec.kind == "debezium":
            path = Path(file if file is not None else (self._url(product) or ""))
            if str(path).startswith("file://"):
                path = Path(str(path)[7:])
            if not path.is_absolute():
                path = (Path.cwd() if file is not None else self.platform.root) / path
            # a replayed file is matched against the product's table too: events of other tables
            # are skipped (and counted), never applied to this mirror
            source = make_source("debezium", path=path, primary_key=product.primary_key,
                                 table=spec.options.get("match_table") or spec.table,
                                 **{k: v for k, v in spec.options.items() if k != "match_table"})
            return source, f"debezium:{path.resolve()}"
        url = spec.url if source is not None else self._url(product)
        slot = spec.slot or f"headwater_{self.platform.project.name}_{product.name}".replace("-", "_")
        source = make_source(spec.kind, url=url, table=spec.table, slot=slot,
                             primary_key=product.primary_key, clock=self.platform.clock, **spec.options)
        return source, f"{spec.kind}:{slot}"

    def run(self, name: str, *, until_idle: float | None = None, max_batches: int | None = None,
            max_batch: int = 50_000, accept_schema_change: bool = False, resnapshot: bool = False,
            file: str | Path | None = None, source=None, command: str | None = None) -> CdcRunResult:
        """Mirror ``name`` from its source until idle for ``until_idle`` seconds (None: forever).
        ``file``: a Debezium log instead of the configured source; ``source``: a CdcSourceSpec."""
        product = self.product(name)
        if max_batch < 1:
            raise HeadwaterError(f"max_batch must be at least 1, got {max_batch}",
                                 fix="pass --max-batch 1 or more (changes per commit; default 50000)")
        if until_idle is not None and until_idle < 0:
            raise HeadwaterError(f"until_idle must be 0 or more seconds, got {until_idle}",
                                 fix="pass --until-idle 0 to stop as soon as nothing is pending")
        source, source_id = self.open_source(product, file, source)
        if resnapshot and not getattr(source, "SUPPORTS_RESNAPSHOT", False):
            source.close()
            raise HeadwaterError(
                f"--resnapshot applies to PostgreSQL sources (a new slot and initial snapshot); "
                f"{name} reads {source_id}, which has no snapshot to take again",
                fix=f"run without --resnapshot: 'headwater cdc run {name}' applies what the log holds "
                    f"after the mirror's position, and 'headwater cdc replay FILE --product {name}' "
                    "applies another log")
        try:
            lane = CdcLane(self.platform, product, source, source_id=source_id, max_batch=max_batch,
                           accept_schema_change=accept_schema_change, resnapshot=resnapshot)
            return lane.run(until_idle=until_idle, max_batches=max_batches, command=command)
        finally:
            source.close()

    def replay(self, file: str | Path, product: str, *, max_batch: int = 50_000) -> CdcRunResult:
        """Apply a Debezium JSON lines file to ``product``; replaying it again changes nothing."""
        return self.run(product, until_idle=0.0, file=file, max_batch=max_batch,
                        command=f"headwater cdc replay {file} --product {product}")

    def status(self) -> list[CdcStatus]:
        out = []
        for product in self.products():
            out.append(self._status(product))
        return out

    def _status(self, product: CdcProduct) -> CdcStatus:
        lake, ledger = self.platform.lakehouse, self.platform.ledger
        spec = product.cdc.source
        snap = lake.current(product.name) if lake.exists(product.name) else None
        summary = snap.summary if snap else {}
        positions, _ = committed(lake, product.name)
        src_ts = summary.get(PREFIX + "cdc.commit-ts")
        status = CdcStatus(product.name, summary.get(PREFIX + "cdc.source") or spec.kind, positions,
                           positions.get("lsn"), snap.committed_at if snap else None,
                           datetime.fromisoformat(src_ts) if src_ts else None,
                           snap.rows if snap else None,
                           None, None, None, _rate(ledger.steps(product.name, status="success", limit=50)),
                           (ledger.latest(product.name).status if ledger.latest(product.name) else None))
        try:
            source, _ = self.open_source(product)
            try:
                getattr(source, "observe", source.seek)(positions)
                lag = source.lag()
            finally:
                source.close()
        except HeadwaterError as exc:
            status.error = exc.message
            return status
        status.lag_bytes = sum(v.get("bytes", 0) for v in lag.values()) if any(
            "bytes" in v for v in lag.values()) else None
        status.lag_records = sum(v.get("records", 0) for v in lag.values()) if any(
            "records" in v for v in lag.values()) else None
        status.lag_seconds = _lag_seconds(lag, status.lag_records, status.lag_bytes,
                                          status.source_commit_ts, self.platform.clock.now())
        return status


def _lag_seconds(lag: dict[str, dict], records: int | None, nbytes: int | None,
                 applied_ts: datetime | None, now: datetime) -> float | None:
    """Now minus the commit time of the oldest change not yet applied.

    A source that can tell reports ``oldest_commit_ts`` per partition (None: nothing of this
    table pending, so WAL of other tables is not lag). Otherwise, with events pending, the time
    since the last applied commit bounds it from above; with nothing known, it is unknown (None).
    """
    stamps = [v["oldest_commit_ts"] for v in lag.values() if v.get("oldest_commit_ts")]
    if stamps:
        return max(0.0, (now - min(stamps)).total_seconds())
    if lag and all("oldest_commit_ts" in v for v in lag.values()):
        return 0.0
    if records is None and nbytes is None:
        return None
    if not (records or nbytes):
        return 0.0
    return max(0.0, (now - applied_ts).total_seconds()) if applied_ts is not None else None


def _rate(steps) -> float | None:
    """Changes applied per second of lane work over the recent steps."""
    changes, seconds = 0, 0.0
    for s in steps:
        cdc = (s.details or {}).get("cdc") or {}
        if s.started_at and s.finished_at:
            changes += int(cdc.get("changes", 0))
            seconds += (s.finished_at - s.started_at).total_seconds()
    return round(changes / seconds, 1) if seconds > 0 else None
