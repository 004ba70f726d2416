"""StreamingService (``Platform.streaming``): run a consumer, report status, feed the inbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from headwater.errors import HeadwaterError, NotFoundError
from headwater.lanes.streaming.state import StreamState, from_us


@dataclass
class StreamRunResult:
    product: str
    run_id: str
    status: str
    stats: dict[str, Any]
    error: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class StreamStatus:
    product: str
    source: str
    watermark: str | None
    batches: int
    committed_at: str | None
    positions: dict[str, str]
    lag: dict[str, Any]
    totals: dict[str, int]
    late_rate: float
    duplicate_rate: float
    events_per_second: float | None
    last_step: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class StreamingService:
    def __init__(self, platform) -> None:
        self.platform = platform

    def products(self) -> list:
        return [p for p in self.platform.project.products.values() if p.lane == "streaming"]

    def product(self, name: str):
        product = self.platform.project.product(name)
        if product.lane != "streaming":
            raise NotFoundError(f"{name!r} is a {product.lane} product, not a streaming one",
                                fix="streaming products declare 'lane: streaming' and a 'stream:' block")
        return product

    def source(self, product):
        """The product's source, as its spec declares it."""
        from headwater.sources.base import make_source

        spec = product.stream.source
        return make_source(spec.kind, url=spec.url, stream=spec.stream, group=spec.group,
                           options=dict(spec.options), state_dir=self.platform.state_dir,
                           product=product.name)

    def inbox(self, name: str):
        from headwater.sources.inbox import DEFAULT_MAX_BYTES, Inbox

        product = self.product(name)
        spec = product.stream.source
        if spec.kind != "inbox":
            raise HeadwaterError(f"{name!r} reads from {spec.kind}, not from the inbox",
                                 fix=f"publish to its {spec.kind} stream instead of 'headwater ingest'")
        return Inbox(self.platform.state_dir / "inbox" / name,
                     max_bytes=spec.options.get("max_bytes", DEFAULT_MAX_BYTES),
                     **({"segment_bytes": spec.options["segment_bytes"]} if "segment_bytes" in spec.options else {}))

    def ingest(self, name: str, payload: bytes | str | Iterable[dict]):
        """Append events to the product's inbox durably; raises InboxFull when over its bound."""
        return self.inbox(name).append(payload)

    def run(self, name: str, *, until_idle: float | None = None, max_events: int | None = None,
            source=None, progress: Callable | None = None, trigger: str = "cli",
            command: str | None = None, step_interval: float = 60.0) -> StreamRunResult:
        """Consume until idle for ``until_idle`` seconds or ``max_events`` events (or forever)."""
        from headwater.lanes.streaming.consumer import StreamConsumer
        from headwater.lanes.streaming.steps import StepRecorder

        product = self.product(name)
        hw = self.platform
        hw.ledger.reap_dead_runs()
        run_id = hw.ledger.start_run(hw.project.name, trigger, command,
                                     {"products": [name], "until_idle": until_idle, "max_events": max_events})
        steps = StepRecorder(hw, product, run_id, trigger=trigger, interval_seconds=step_interval)
        own_source = source is None
        source = source or self.source(product)
        consumer = StreamConsumer(hw, product, source, run_id=run_id, steps=steps, gate=hw.gate,
                                  progress=progress)
        status, error, fix = "success", None, None
        steps.open()
        try:
            consumer.restore()
            consumer.run(until_idle=until_idle, max_events=max_events)
        except HeadwaterError as exc:
            status, error, fix = "failed", exc.message, exc.fix
        except KeyboardInterrupt:
            status, error = "failed", "interrupted; the last micro-batch was not committed and is read again"
        except Exception as exc:  # unexpected: the step must not be recorded as a success
            status, error = "failed", f"unexpected {type(exc).__name__}: {exc}"
            raise
        finally:
            steps.close(status, error=error, fix=fix)
            hw.ledger.finish_run(run_id, status)
            if own_source:
                source.close()
        return StreamRunResult(name, run_id, status, consumer.stats.to_dict(), error, fix)

    def status(self, names: list[str] | None = None, with_lag: bool = True) -> list[StreamStatus]:
        out = []
        for product in self.products():
            if names and product.name not in names:
                continue
            out.append(self._status(product, with_lag))
        return out

    def _status(self, product, with_lag: bool) -> StreamStatus:
        lh, notes = self.platform.lakehouse, []
        snap = lh.current(product.name) if lh.exists(product.name) else None
        state = StreamState.from_summary(snap.summary) if snap else StreamState()
        lag: dict[str, Any] = {}
        if with_lag:
            try:
                source = self.source(product)
                try:
                    if hasattr(source, "lag_from"):  # without moving a consumer that may be running
                        lag = source.lag_from(state.positions)
                    else:
                        source.seek(state.positions)
                        lag = source.lag()
                finally:
                    source.close()
            except (HeadwaterError, OSError) as exc:
                notes.append(f"lag unknown: {getattr(exc, 'message', exc)}")
        t = state.totals
        n = t.get("rows_in", 0)
        last = self.platform.ledger.latest(product.name)
        eps = None
        if last is not None and last.details and "stream" in last.details:
            eps = last.details["stream"].get("events_per_second")
        wm = from_us(state.watermark_us)
        return StreamStatus(product.name, product.stream.source.kind, wm.isoformat() if wm else None,
                            state.batch, snap.committed_at.isoformat() if snap else None,
                            state.positions, lag, t,
                            round(t.get("late", 0) / n, 6) if n else 0.0,
                            round(t.get("duplicates", 0) / n, 6) if n else 0.0, eps,
                            last.status if last else None, notes)

