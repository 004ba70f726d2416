"""Kafka through confluent-kafka: a consumer group, offsets committed only after the Iceberg commit.

Partitions are Kafka partitions (``"0"``, ``"1"``, ...); a position is the offset of the last
record taken. Auto-commit is off. On assignment, each partition starts at the offset after the
position in the table's last snapshot (the table is the authority; the group's committed offset
is only a fallback for partitions the table has never seen, then ``auto.offset.reset``).
``options`` are passed to librdkafka as they are (e.g. ``security.protocol``); ``url`` is the
bootstrap servers list (``kafka://host:9092,host2:9092`` or ``host:9092``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from headwater.errors import HeadwaterError, TransientError
from headwater.sources.base import Batch, Record


class KafkaSource:
    KIND = "kafka"

    def __init__(self, *, url: str | None = None, stream: str | None = None, group: str | None = None,
                 options: dict[str, Any] | None = None, product: str = "headwater", **_spec: Any) -> None:
        try:
            from confluent_kafka import Consumer
        except ImportError as exc:
            raise HeadwaterError("the kafka source needs confluent-kafka",
                                 fix="pip install 'headwater[streaming]'") from exc
        if not stream or not (url or (options or {}).get("bootstrap.servers")):
            raise HeadwaterError("a kafka source needs url (bootstrap servers) and stream (the topic)",
                                 fix="set stream.source.url: kafka://broker:9092 and stream.source.stream")
        config = {"bootstrap.servers": (url or "").removeprefix("kafka://"),
                  "group.id": group or f"headwater-{product}", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "enable.partition.eof": False}
        config.update(options or {})
        self.topic = stream
        self.positions: dict[str, str] = {}
        self.consumer = Consumer(config)
        self._subscribed = False

    def _on_assign(self, consumer, partitions) -> None:
        for tp in partitions:
            pos = self.positions.get(str(tp.partition))
            if pos is not None:
                tp.offset = int(pos) + 1
        consumer.assign(partitions)

    def seek(self, positions: dict[str, str]) -> None:
        self.positions = dict(positions)
        if not self._subscribed:
            self.consumer.subscribe([self.topic], on_assign=self._on_assign)
            self._subscribed = True

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        from confluent_kafka import KafkaError

        if not self._subscribed:
            self.seek({})
        messages = self.consumer.consume(num_messages=max_records, timeout=max(timeout_seconds, 0.01))
        records = []
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                if err.retriable() or not err.fatal():
                    raise TransientError(f"kafka: {err.str()}", fix="the consumer retries from the last commit")
                raise HeadwaterError(f"kafka: {err.str()}", fix="check the topic, brokers and credentials")
            raw = msg.value()
            try:
                value = json.loads(raw) if raw is not None else None
            except json.JSONDecodeError:
                value = {"value": raw.decode(errors="replace")}
            kind, ms = msg.timestamp()
            partition, offset = str(msg.partition()), msg.offset()
            known = self.positions.get(partition)
            if known is not None and offset <= int(known):
                continue  # delivered again after a rebalance: already taken
            self.positions[partition] = str(offset)
            records.append(Record(value, str(offset), partition, key=msg.key(),
                                  timestamp=datetime.fromtimestamp(ms / 1000, tz=timezone.utc) if ms > 0 else None))
        positions: dict[str, str] = {}
        for r in records:
            positions[r.partition] = r.position
        return Batch(records, positions)

    def commit(self, positions: dict[str, str]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        offsets = [TopicPartition(self.topic, int(p), int(o) + 1) for p, o in positions.items()]
        if not offsets:
            return
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise TransientError(f"kafka offset commit failed: {exc}",
                                 fix="harmless for correctness: the table holds the positions; "
                                     "the next commit acknowledges again") from exc

    def lag(self) -> dict[str, Any]:
        return self.lag_from(self.positions)

    def lag_from(self, positions: dict[str, str]) -> dict[str, Any]:
        from confluent_kafka import TopicPartition

        meta = self.consumer.list_topics(self.topic, timeout=5).topics.get(self.topic)
        out = {}
        for p in sorted(meta.partitions) if meta and meta.partitions else []:
            _, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=5)
            done = int(positions[str(p)]) + 1 if str(p) in positions else 0
            out[str(p)] = {"records": max(0, high - done)}
        return out

    def close(self) -> None:
        self.consumer.close()
