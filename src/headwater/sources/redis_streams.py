"""Redis Streams through a consumer group; XACK only after the Iceberg commit.

One partition: the stream key. A position is an entry id (``1700000000000-0``). On ``seek`` the
source first re-reads its own pending entries (delivered before a crash, never acknowledged):
those at or before the committed position are already in the table and are only acknowledged;
the rest are handed out again, in order, before new entries (``>``). The consumer name is stable
per product (``headwater-<product>``), so a restarted consumer owns its predecessor's pending
entries. Entries are JSON in the field ``data`` (option ``field``); without it, the entry's
fields are the event.
"""

from __future__ import annotations

import json
from typing import Any

from headwater.errors import HeadwaterError, TransientError
from headwater.sources.base import Batch, Record


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class RedisStreamSource:
    KIND = "redis"

    def __init__(self, *, url: str | None = None, stream: str | None = None, group: str | None = None,
                 options: dict[str, Any] | None = None, product: str = "headwater", **_spec: Any) -> None:
        try:
            import redis
        except ImportError as exc:
            raise HeadwaterError("the redis source needs the redis client",
                                 fix="pip install 'headwater[streaming]'") from exc
        if not url or not stream:
            raise HeadwaterError("a redis source needs url and stream",
                                 fix="set stream.source.url (redis://host:6379/0) and stream.source.stream")
        options = dict(options or {})
        self.stream = stream
        self.group = group or "headwater"
        self.consumer = options.pop("consumer", f"headwater-{product}")
        self.field = options.pop("field", "data")
        self._redis = redis
        self.client = redis.Redis.from_url(url, **options)
        self.committed: str | None = None
        self._history = True  # first re-read our own pending entries, then new ones
        self._cursor = "0"
        self._unacked: list[str] = []
        try:
            self.client.xgroup_create(stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise HeadwaterError(f"cannot create consumer group {self.group!r} on {stream!r}: {exc}",
                                     fix="check the stream key and the Redis permissions") from exc
        except redis.ConnectionError as exc:
            raise TransientError(f"cannot reach Redis at {url}: {exc}",
                                 fix="start Redis or correct stream.source.url") from exc

    @property
    def partition(self) -> str:
        return self.stream

    def seek(self, positions: dict[str, str]) -> None:
        self.committed = positions.get(self.partition)
        self._history, self._cursor, self._unacked = True, "0", []

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        try:
            return self._read(max_records, timeout_seconds)
        except self._redis.ConnectionError as exc:
            raise TransientError(f"lost the connection to Redis: {exc}", fix="the consumer retries; "
                                 "nothing read since the last commit was acknowledged") from exc

    def _read(self, max_records: int, timeout_seconds: float) -> Batch:
        records: list[Record] = []
        while self._history and not records:
            reply = self.client.xreadgroup(self.group, self.consumer, {self.stream: self._cursor},
                                           count=max_records)
            entries = reply[0][1] if reply else []
            if not entries:
                self._history = False
                break
            self._cursor = _text(entries[-1][0])
            done = []
            for entry_id, fields in entries:
                entry_id = _text(entry_id)
                if not fields or (self.committed and _key(entry_id) <= _key(self.committed)):
                    done.append(entry_id)  # in the table already (or deleted): just acknowledge
                else:
                    records.append(self._record(entry_id, fields))
            if done:
                self.client.xack(self.stream, self.group, *done)
        if not records and not self._history:
            block = max(1, int(timeout_seconds * 1000))
            reply = self.client.xreadgroup(self.group, self.consumer, {self.stream: ">"},
                                           count=max_records, block=block)
            for entry_id, fields in (reply[0][1] if reply else []):
                records.append(self._record(_text(entry_id), fields))
        self._unacked.extend(r.position for r in records)
        return Batch(records, {self.partition: records[-1].position} if records else {})

    def _record(self, entry_id: str, fields: dict) -> Record:
        raw = fields.get(self.field.encode()) if self.field else None
        if raw is not None:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = {"value": _text(raw)}
        else:
            value = {_text(k): _text(v) for k, v in fields.items()}
        ms = int(entry_id.partition("-")[0])
        from datetime import datetime, timezone

        return Record(value, entry_id, self.partition,
                      timestamp=datetime.fromtimestamp(ms / 1000, tz=timezone.utc))

    def commit(self, positions: dict[str, str]) -> None:
        upto = positions.get(self.partition)
        if upto is None:
            return
        done = [i for i in self._unacked if _key(i) <= _key(upto)]
        self._unacked = [i for i in self._unacked if _key(i) > _key(upto)]
        if done:
            self.client.xack(self.stream, self.group, *done)
        self.committed = upto

    def lag_from(self, positions: dict[str, str]) -> dict[str, Any]:
        return self.lag()

    def lag(self) -> dict[str, Any]:
        for info in self.client.xinfo_groups(self.stream):
            if _text(info["name"]) == self.group:
                return {self.partition: {"records": info.get("lag"), "pending": info.get("pending")}}
        return {self.partition: {"records": self.client.xlen(self.stream), "pending": 0}}

    def close(self) -> None:
        self.client.close()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
