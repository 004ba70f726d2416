"""Debezium events carried by another source: the embedded inbox, Redis Streams, NATS or Kafka.

The carrier (any registered source kind, named by ``options.carrier``) delivers records whose
values are Debezium events; each is decoded with ``headwater.sources.debezium.decode``. The
carrier's positions are the lane's positions (one partition: Debezium orders a table's events
within one partition). When the stream carries transaction metadata, a batch is extended until
the open transaction's END, so a transaction is never split across commits.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.lanes.cdc.changes import Change
from headwater.sources.base import Batch, Record, make_source
from headwater.sources.debezium import Skipped, decode


def sortable(position: str) -> str:
    """A carrier position as text that sorts in stream order (offsets, Redis ids 'ms-seq')."""
    return "-".join(p.zfill(20) if p.isdigit() else p for p in re.split(r"[-:]", str(position)))


class DebeziumCarrierSource:
    KIND = "debezium"

    def __init__(self, carrier: str, primary_key: list[str], table: str | None = None,
                 **carrier_spec: Any) -> None:
        self.inner = make_source(carrier, **carrier_spec)
        self.primary_key = primary_key
        self.table = table
        self.skipped: dict[str, int] = {}
        self.last_source_position: dict[str, Any] = {}

    def seek(self, positions: dict[str, str]) -> None:
        self.inner.seek(positions)

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        out = Batch()
        open_tx = False
        timeout = timeout_seconds
        while True:
            batch = self.inner.read(max_records, timeout)
            for rec in batch.records:
                value = rec.value
                if isinstance(value, (bytes, str)):
                    import json

                    value = json.loads(value) if value else None
                payload = value.get("payload", value) if isinstance(value, dict) else None
                if isinstance(payload, dict) and payload.get("status") in ("BEGIN", "END"):
                    open_tx = payload["status"] == "BEGIN"
                key = None
                if rec.key:
                    import json

                    try:
                        key = json.loads(rec.key)
                        key = key.get("payload", key) if isinstance(key, dict) else None
                    except ValueError:
                        key = None
                event = decode(value, 0, self.primary_key, table=self.table, key=key)
                if isinstance(event, Skipped):
                    self.skipped[event.reason] = self.skipped.get(event.reason, 0) + 1
                    continue
                change = Change(event.op, event.key, sortable(f"{rec.partition}:{rec.position}"),
                                event.row, event.unchanged, event.tx, event.commit_ts, event.types)
                out.records.append(Record(change, change.position, rec.partition))
            out.positions.update(batch.positions)
            if not open_tx or not batch.records:
                return out
            timeout = max(timeout_seconds, 1.0)  # the END of an open transaction is on its way

    def commit(self, positions: dict[str, str]) -> None:
        self.inner.commit(positions)

    def lag(self) -> dict[str, Any]:
        return self.inner.lag()

    def close(self) -> None:
        self.inner.close()
