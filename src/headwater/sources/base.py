"""The source interface every streaming and CDC source implements (ARCHITECTURE decision 7).

A source hands out batches of records with their positions, and is told to commit a position
only after the Iceberg commit that holds those records. On restart the lane reads the positions
stored in the table's last snapshot summary and calls ``seek`` before reading again, so the
effect is exactly once even if the acknowledgement was lost.

Positions are strings per source partition (a Redis stream id, a NATS stream sequence, a Kafka
offset, a PostgreSQL LSN, an inbox offset), so they fit in a snapshot summary as JSON.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Record:
    value: Any                      # decoded payload: a dict for JSON sources, bytes otherwise
    position: str                   # this record's position within its partition
    partition: str = "0"
    key: bytes | None = None
    timestamp: datetime | None = None  # broker/ingest time, when the source has one


@dataclass
class Batch:
    records: list[Record] = field(default_factory=list)
    positions: dict[str, str] = field(default_factory=dict)  # partition -> last position in batch

    def __len__(self) -> int:
        return len(self.records)


class Source(Protocol):
    KIND: str

    def seek(self, positions: dict[str, str]) -> None:
        """Continue after ``positions`` (from the last committed snapshot); {} means the start."""

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        """Up to ``max_records`` records, waiting at most ``timeout_seconds`` for the first."""

    def commit(self, positions: dict[str, str]) -> None:
        """Acknowledge everything up to ``positions``; called only after the Iceberg commit."""

    def lag(self) -> dict[str, Any]:
        """What is known about the backlog (records or bytes behind, per partition)."""

    def close(self) -> None: ...


SOURCES: dict[str, str] = {}  # kind -> "module:Class"; each source module adds its line
SOURCES["inbox"] = "headwater.sources.inbox:InboxSource"
SOURCES["redis"] = "headwater.sources.redis_streams:RedisStreamSource"
SOURCES["nats"] = "headwater.sources.nats_jetstream:NatsJetStreamSource"
SOURCES["kafka"] = "headwater.sources.kafka:KafkaSource"
SOURCES["fault"] = "headwater.sources.fault:FaultSource"
SOURCES["postgres"] = "headwater.sources.postgres:PostgresSource"
SOURCES["debezium"] = "headwater.sources.debezium:DebeziumFileSource"


def make_source(kind: str, **options) -> Source:
    from headwater.errors import HeadwaterError

    target = SOURCES.get(kind)
    if target is None:
        raise HeadwaterError(f"unknown source kind {kind!r}",
                             fix=f"use one of: {', '.join(sorted(SOURCES)) or '(none installed)'}")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)(**options)
