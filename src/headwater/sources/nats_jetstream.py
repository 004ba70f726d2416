"""NATS JetStream through a durable pull consumer; messages acked only after the Iceberg commit.

One partition: the stream. A position is the stream sequence. The table, not the broker, is the
authority on where to resume: ``seek`` recreates the durable consumer to deliver from the
sequence after the committed one, so a restart neither waits for ``ack_wait`` redeliveries nor
depends on acks that a crash lost. Redeliveries within a run (a commit slower than ``ack_wait``)
are recognised by their sequence and skipped. Acks still matter to the broker: streams with
interest or work-queue retention drop what was acked.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from headwater.errors import HeadwaterError, TransientError
from headwater.sources.base import Batch, Record


class NatsJetStreamSource:
    KIND = "nats"

    def __init__(self, *, url: str | None = None, stream: str | None = None, group: str | None = None,
                 options: dict[str, Any] | None = None, product: str = "headwater", **_spec: Any) -> None:
        try:
            import nats  # noqa: F401
        except ImportError as exc:
            raise HeadwaterError("the nats source needs nats-py", fix="pip install 'headwater[streaming]'") from exc
        if not url or not stream:
            raise HeadwaterError("a nats source needs url and stream (the subject)",
                                 fix="set stream.source.url (nats://host:4222) and stream.source.stream")
        options = dict(options or {})
        self.url = url
        self.subject = stream
        self.stream_name = options.pop("stream_name", re.sub(r"[^A-Za-z0-9_-]", "_", stream).upper())
        self.durable = group or f"headwater-{product}"
        self.ack_wait = float(options.pop("ack_wait", 60))
        self.create_stream = bool(options.pop("create_stream", True))
        if options:
            raise HeadwaterError(f"unknown nats options: {', '.join(sorted(options))}",
                                 fix="the nats source takes stream_name, ack_wait and create_stream")
        self.loop = asyncio.new_event_loop()
        self.nc = self.js = self.sub = None
        self.last_seq = 0
        self._unacked: list = []
        self._run(self._connect())

    @property
    def partition(self) -> str:
        return self.stream_name

    def _run(self, coro):
        try:
            return self.loop.run_until_complete(coro)
        except (OSError, asyncio.TimeoutError) as exc:
            raise TransientError(f"NATS at {self.url} did not answer: {exc}",
                                 fix="check that nats-server runs with JetStream (-js)") from exc

    async def _connect(self) -> None:
        import nats
        from nats.js.errors import NotFoundError

        self.nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=3)
        self.js = self.nc.jetstream()
        try:
            await self.js.stream_info(self.stream_name)
        except NotFoundError:
            if not self.create_stream:
                raise HeadwaterError(f"JetStream has no stream {self.stream_name!r}",
                                     fix="create it, or set options.create_stream: true") from None
            await self.js.add_stream(name=self.stream_name, subjects=[self.subject])

    def seek(self, positions: dict[str, str]) -> None:
        self.last_seq = int(positions.get(self.partition, 0))
        self._unacked = []
        self._run(self._subscribe())

    async def _subscribe(self) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        if self.sub is not None:
            await self.sub.unsubscribe()
        try:
            await self.js.delete_consumer(self.stream_name, self.durable)
        except NotFoundError:
            pass
        config = ConsumerConfig(durable_name=self.durable, ack_policy=AckPolicy.EXPLICIT,
                                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=self.last_seq + 1, ack_wait=self.ack_wait,
                                filter_subject=self.subject, max_ack_pending=-1)
        await self.js.add_consumer(self.stream_name, config)
        self.sub = await self.js.pull_subscribe_bind(self.durable, stream=self.stream_name)

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        if self.sub is None:
            self.seek({})
        return self._run(self._fetch(max_records, max(timeout_seconds, 0.05)))

    async def _fetch(self, max_records: int, timeout: float) -> Batch:
        from nats.errors import TimeoutError as NatsTimeout

        try:
            msgs = await self.sub.fetch(batch=max_records, timeout=timeout)
        except (NatsTimeout, asyncio.TimeoutError):  # nothing arrived in time (either class, by version)
            return Batch()
        records = []
        for msg in msgs:
            seq = msg.metadata.sequence.stream
            if seq <= self.last_seq:
                continue  # a redelivery of something already handed out
            self.last_seq = seq
            try:
                value = json.loads(msg.data)
            except json.JSONDecodeError:
                value = {"value": msg.data.decode(errors="replace")}
            records.append(Record(value, str(seq), self.partition,
                                  timestamp=msg.metadata.timestamp))
            self._unacked.append((seq, msg))
        return Batch(records, {self.partition: records[-1].position} if records else {})

    def commit(self, positions: dict[str, str]) -> None:
        upto = positions.get(self.partition)
        if upto is None:
            return
        upto_seq = int(upto)
        done = [m for s, m in self._unacked if s <= upto_seq]
        self._unacked = [(s, m) for s, m in self._unacked if s > upto_seq]

        async def ack():
            for msg in done:
                await msg.ack()
            await self.nc.flush()
        self._run(ack())

    def lag(self) -> dict[str, Any]:
        return self.lag_from({self.partition: str(self.last_seq)})

    def lag_from(self, positions: dict[str, str]) -> dict[str, Any]:
        """Records in the stream after ``positions`` (without touching the durable consumer)."""
        async def info():
            stream = await self.js.stream_info(self.stream_name)
            return stream.state.last_seq
        last = self._run(info())
        return {self.partition: {"records": max(0, last - int(positions.get(self.partition, 0)))}}

    def close(self) -> None:
        async def close():
            if self.nc is not None:
                await self.nc.close()
        try:
            self._run(close())
        finally:
            self.loop.close()
