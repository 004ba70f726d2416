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
            source = make_source("debezium", path=path, primary_key=product.primary_key,
                                 table=spec.table if file is None else spec.options.get("match_table"),
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
        source, source_id = self.open_source(product, file, source)
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
        oldest = min((v["oldest_commit_ts"] for v in lag.values() if v.get("oldest_commit_ts")),
                     default=None)
        now = self.platform.clock.now()
        if oldest is not None:  # the oldest change not yet applied
            status.lag_seconds = max(0.0, (now - oldest).total_seconds())
        elif (status.lag_records or 0) > 0 and status.source_commit_ts is not None:
            status.lag_seconds = max(0.0, (now - status.source_commit_ts).total_seconds())
        else:  # nothing of this table pending (WAL of other tables or databases is not lag)
            status.lag_seconds = 0.0
        return status


def _rate(steps) -> float | None:
    """Changes applied per second of lane work over the recent steps."""
    changes, seconds = 0, 0.0
    for s in steps:
        cdc = (s.details or {}).get("cdc") or {}
        if s.started_at and s.finished_at:
            changes += int(cdc.get("changes", 0))
            seconds += (s.finished_at - s.started_at).total_seconds()
    return round(changes / seconds, 1) if seconds > 0 else None
