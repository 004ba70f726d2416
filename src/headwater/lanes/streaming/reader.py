"""Reading a source into decoded Arrow chunks, each with its partitions and end positions.

Sources that can hand over raw JSON lines (``SUPPORTS_JSON_LINES``) are decoded by Arrow's C++
JSON reader; others give ``Record`` objects, decoded through Python dicts.

The replay fence: when the quarantine table was committed for a batch whose main commit then
never happened (a crash between the two), the first batch after the restart must end exactly at
the quarantine commit's positions, so that its quarantined rows are recognised and not written
twice. Records past the fence wait in ``pending`` for the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from headwater.lanes.streaming import killpoints
from headwater.lanes.streaming.decode import decode_lines, decode_values
from headwater.lanes.streaming.state import position_key
from headwater.sources.base import Record


@dataclass
class Chunk:
    table: pa.Table
    partitions: list[str]                  # one per row
    positions: dict[str, str] = field(default_factory=dict)  # partition -> last position

    def __len__(self) -> int:
        return self.table.num_rows


class ChunkReader:
    def __init__(self, source, event_time: str) -> None:
        self.source = source
        self.event_time = event_time
        self.lines = bool(getattr(source, "SUPPORTS_JSON_LINES", False))
        self.fence: dict[str, str] | None = None
        self._pending_records: list[Record] = []
        self._pending_lines: tuple[bytes, int, str] | None = None  # data, start offset, partition
        self.schema: pa.Schema | None = None

    def set_fence(self, fence: dict[str, str] | None) -> None:
        self.fence = fence or None

    def read(self, max_rows: int, timeout: float) -> Chunk | None:
        if self.lines:
            return self._read_lines(max_rows, timeout)
        return self._read_records(max_rows, timeout)

    def _read_records(self, max_rows: int, timeout: float) -> Chunk | None:
        records = self._pending_records
        self._pending_records = []
        if not records or self.fence is not None:
            records = records + self.source.read(max_rows, timeout).records
            killpoints.reach("read")
        if self.fence is not None:
            records, self._pending_records = self._split_records(records)
        if not records:
            return None
        positions: dict[str, str] = {}
        for r in records:  # the newest position per partition (a batch may arrive reordered)
            have = positions.get(r.partition)
            if have is None or position_key(r.position) > position_key(have):
                positions[r.partition] = r.position
        table = decode_values([r.value for r in records], self.schema)
        killpoints.reach("decode")
        return Chunk(table, [r.partition for r in records], positions)

    def _split_records(self, records: list[Record]) -> tuple[list[Record], list[Record]]:
        fence = {p: position_key(v) for p, v in self.fence.items()}
        inside = [r for r in records if r.partition in fence and position_key(r.position) <= fence[r.partition]]
        rest = [r for r in records if not (r.partition in fence and position_key(r.position) <= fence[r.partition])]
        return inside, rest

    def _read_lines(self, max_rows: int, timeout: float) -> Chunk | None:
        if self._pending_lines is not None:
            data, start, partition = self._pending_lines
            self._pending_lines = None
            count = data.count(b"\n")
            end = {partition: str(start + len(data))}
        else:
            start = self.source.offset
            data, count, end = self.source.read_lines(max_rows, timeout)
            killpoints.reach("read")
            partition = next(iter(end), "0")
        if self.fence is not None and count and partition in self.fence:
            limit = int(self.fence[partition]) - start
            if 0 <= limit < len(data):
                self._pending_lines = (data[limit:], start + limit, partition)
                data = data[:limit]
                count = data.count(b"\n")
                end = {partition: str(start + limit)} if count else {}
        if not count:
            return None
        table = decode_lines(data, self.schema, self.event_time)
        killpoints.reach("decode")
        return Chunk(table, [partition] * table.num_rows, end)

    def fence_reached(self, positions: dict[str, str]) -> bool:
        """True once ``positions`` reach every partition of the fence (then it is lifted)."""
        if self.fence is None:
            return False
        done = all(p in positions and position_key(positions[p]) >= position_key(v)
                   for p, v in self.fence.items())
        return done

    @property
    def has_pending(self) -> bool:
        return bool(self._pending_records) or self._pending_lines is not None
