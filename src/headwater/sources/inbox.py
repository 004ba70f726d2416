"""The embedded inbox: a durable, bounded, append-only log of JSON lines inside the state folder.

Layout of ``<state>/inbox/<product>/``::

    seg-00000000000000000000.jsonl   segments, named by the global byte offset they start at
    committed                        the offset acknowledged after the last Iceberg commit
    lock                             writers append under an exclusive flock

A record's position is the global byte offset just after its line, so "continue after P" is
"read from byte P". Writers append whole lines with one write and an fsync before they return
(the HTTP endpoint answers 202 only then); a torn tail left by a killed writer is cut back to the
last newline by the next writer, and readers never see a line without its newline. A payload of
more than ``STAGE_BYTES`` (a large file given to ``headwater ingest``) is checked line by line
while it is written to a staging file, which is then renamed into place as a segment of its own:
all of it or nothing, without holding it in memory. The bound is
on unacknowledged bytes: an append that would exceed it raises ``InboxFull`` (backpressure, 429),
never buffers. Segments wholly below the committed offset are deleted on commit.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from headwater.errors import HeadwaterError, TransientError
from headwater.sources.base import Batch, Record

PARTITION = "0"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
CHECK_BYTES = 4 * 1024 * 1024   # append_stream checks lines this many bytes at a time
STAGE_BYTES = 16 * 1024 * 1024  # ... and stages a payload larger than this in its own segment


class InboxFull(TransientError):
    """The inbox holds as many unacknowledged bytes as its bound allows."""


class BadPayload(HeadwaterError):
    """An ingest payload that is not JSON objects (as an array or JSON lines)."""


@dataclass(frozen=True)
class Appended:
    records: int
    first_offset: int
    end_offset: int

    def to_dict(self) -> dict[str, int]:
        return dict(vars(self))


def encode_payload(payload: bytes | str | Iterable[dict]) -> tuple[bytes, int]:
    """JSON lines (one object per line) from a JSON array, JSON lines, or dicts.

    JSON lines are validated (each line one JSON object) and kept byte for byte; an array or
    dicts are serialised compactly, one object per line.
    """
    if isinstance(payload, (bytes, str)):
        data = payload.encode() if isinstance(payload, str) else payload
        if not data.lstrip().startswith(b"["):
            return _checked_lines(data)
        try:
            items = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadPayload(f"the payload is not a JSON array: {exc}",
                             fix="send one JSON array of objects, or one JSON object per line") from None
    else:
        items = list(payload)
    bad = next((i for i, item in enumerate(items) if not isinstance(item, dict)), None)
    if bad is not None:
        raise BadPayload(f"item {bad + 1} of the payload is a {type(items[bad]).__name__}, not an object",
                         fix="each event must be a JSON object")
    data = "".join(json.dumps(item, separators=(",", ":"), default=str) + "\n" for item in items)
    return data.encode(), len(items)


def _checked_lines(data: bytes, first_line: int = 1, where: str = "the payload") -> tuple[bytes, int]:
    """``data`` as JSON lines (blank lines and CRs dropped) and their count, or BadPayload naming
    the line (counted from ``first_line``, blank lines included) of ``where``."""
    lines = [line.rstrip(b"\r") for line in data.split(b"\n")]
    kept = [line for line in lines if line.strip()]
    out = b"\n".join(kept) + b"\n" if kept else b""
    if _arrow_accepts(data):  # the C++ reader parsed every line as an object: no need to look
        return out, len(kept)
    loads = json.loads
    nothing = "nothing was appended"
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            ok = isinstance(loads(line), dict)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadPayload(f"line {first_line + i} of {where} is not JSON: {exc}",
                             fix=f"send one JSON object per line, or one JSON array of objects ({nothing})"
                             ) from None
        if not ok:
            raise BadPayload(f"line {first_line + i} of {where} is not a JSON object",
                             fix=f"each event must be a JSON object ({nothing})")
    return out, len(kept)


def _arrow_accepts(data: bytes) -> bool:
    import io

    import pyarrow as pa
    import pyarrow.json as pj

    try:
        pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) + 1)))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False  # not JSON objects, or types that vary between lines: check line by line
    return True


class Inbox:
    """One product's inbox folder: appends (writers) and reads by offset (the consumer)."""

    def __init__(self, directory: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        self.segment_bytes = int(segment_bytes)

    def segments(self) -> list[tuple[int, Path]]:
        return sorted((int(p.stem[4:]), p) for p in self.dir.glob("seg-*.jsonl"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.dir / "lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def committed(self) -> int:
        try:
            return int((self.dir / "committed").read_text().strip() or 0)
        except FileNotFoundError:
            segments = self.segments()
            return segments[0][0] if segments else 0

    def end(self) -> int:
        """Offset just after the last complete line (what readers can see)."""
        segments = self.segments()
        if not segments:
            return self.committed()
        start, path = segments[-1]
        return start + _complete_size(path)

    def backlog_bytes(self) -> int:
        return max(0, self.end() - self.committed())

    def append(self, payload: bytes | str | Iterable[dict]) -> Appended:
        """Append the events durably (fsync) or raise InboxFull / BadPayload; all or nothing."""
        data, count = encode_payload(payload)
        return self._write(data, count)

    def append_stream(self, stream: BinaryIO, where: str = "the payload") -> Appended:
        """Append the JSON lines read from ``stream`` (a file, standard input), all or nothing.

        Every line is checked before anything is appended: a bad one raises BadPayload naming its
        line in ``where``, and the inbox is unchanged. Up to ``STAGE_BYTES`` the lines are appended
        like ``append``; a larger payload is written to a staging file and renamed into place as
        a segment of its own under the lock, so it is never held in memory and readers see all of
        it or none of it, even if this process is killed. A JSON array is read whole.
        """
        stage = _Stage(self.dir, self.max_bytes, where)
        chunk: list[bytes] = []
        size, first_line = 0, 1
        try:
            for line in stream:
                if not stage.records and not chunk and line.lstrip().startswith(b"["):
                    return self.append(line + stream.read())  # an array is parsed whole
                if not line.strip() and not chunk:
                    first_line += 1
                    continue
                chunk.append(line)
                size += len(line)
                if size >= CHECK_BYTES:
                    stage.add(*_checked_lines(b"".join(chunk), first_line, where))
                    first_line, chunk, size = first_line + len(chunk), [], 0
            if chunk:
                stage.add(*_checked_lines(b"".join(chunk), first_line, where))
            if not stage.records:
                return Appended(0, self.end(), self.end())
            if stage.path is None:
                return self._write(b"".join(stage.parts), stage.records)
            return self._adopt(stage)
        finally:
            stage.discard()

    def _room(self, end: int, adding: int) -> None:
        backlog = end - self.committed()
        if backlog + adding > self.max_bytes:
            raise InboxFull(
                f"the inbox of {self.dir.name!r} holds {backlog:,} unacknowledged bytes; "
                f"{adding:,} more would pass its bound of {self.max_bytes:,}",
                fix=f"run the consumer (headwater stream run {self.dir.name}) and retry later, "
                    "or raise stream.source.options.max_bytes")

    def _write(self, data: bytes, count: int) -> Appended:
        with self._locked():
            start, path = self._tail()
            size = path.stat().st_size if path.exists() else 0
            end = start + size
            self._room(end, len(data))
            if size >= self.segment_bytes:
                start, path, end = end, self.dir / f"seg-{end:020d}.jsonl", end
            created = not path.exists()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:  # the new segment's name must survive a crash too
                _fsync_dir(self.dir)
        return Appended(count, end, end + len(data))

    def _adopt(self, stage: _Stage) -> Appended:
        """Rename a staged, fsynced file into place as the segment after the current end."""
        stage.close()
        with self._locked():
            start, path = self._tail()
            end = start + (path.stat().st_size if path.exists() else 0)
            self._room(end, stage.size)
            # an empty tail segment has the same start: replacing it loses nothing
            os.replace(stage.path, self.dir / f"seg-{end:020d}.jsonl")
            stage.path = None
            _fsync_dir(self.dir)
        return Appended(stage.records, end, end + stage.size)

    def _tail(self) -> tuple[int, Path]:
        """The last segment, with a torn tail (a writer killed mid-line) cut to the last newline."""
        segments = self.segments()
        if not segments:
            start = self.committed()
            return start, self.dir / f"seg-{start:020d}.jsonl"
        start, path = segments[-1]
        complete = _complete_size(path)
        if complete != path.stat().st_size:
            os.truncate(path, complete)
        return start, path

    def read_lines(self, offset: int, max_records: int, max_bytes: int = 8 << 20) -> tuple[bytes, int, int]:
        """Complete lines from ``offset``: (data, records, end offset); empty when caught up."""
        for start, path in reversed(self.segments()):
            if start <= offset:
                break
        else:
            segments = self.segments()
            if not segments:
                return b"", 0, offset
            start, path = segments[0]
            offset = max(offset, start)
        with open(path, "rb") as fh:
            fh.seek(offset - start)
            data = fh.read(max_bytes)
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            nxt = [s for s, _ in self.segments() if s > offset]
            if nxt and not data:  # this segment is finished; continue in the next one
                return self.read_lines(nxt[0], max_records, max_bytes)
            return b"", 0, offset
        data = data[:cut]
        count = data.count(b"\n")
        if count > max_records:  # cut after the max_records-th newline
            import numpy as np

            idx = int(np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)[max_records - 1])
            data, count = data[:idx + 1], max_records
        return data, count, offset + len(data)

    def acknowledge(self, offset: int) -> None:
        """Record ``offset`` as committed and delete segments wholly before it."""
        with self._locked():
            if offset <= self.committed() and (self.dir / "committed").exists():
                return
            tmp = self.dir / "committed.tmp"
            tmp.write_text(str(offset))
            os.replace(tmp, self.dir / "committed")
            segments = self.segments()
            for (start, path), (next_start, _) in zip(segments, segments[1:]):
                if next_start <= offset:
                    path.unlink(missing_ok=True)


class _Stage:
    """Checked lines of one ``append_stream``: in memory up to STAGE_BYTES, then in a staging
    file ``stage-<pid>-<n>.tmp`` of the inbox folder (left-overs of killed writers are removed)."""

    def __init__(self, directory: Path, max_bytes: int, where: str) -> None:
        self.dir, self.max_bytes, self.where = directory, max_bytes, where
        self.parts: list[bytes] = []
        self.size = self.records = 0
        self.path: Path | None = None
        self._fh = None

    def add(self, data: bytes, records: int) -> None:
        self.size += len(data)
        self.records += records
        if self.size > self.max_bytes:  # could never fit, whatever the consumer does
            raise InboxFull(f"{self.where} holds more than the inbox bound of {self.max_bytes:,} "
                            f"bytes (nothing was appended)",
                            fix="split it into smaller files, or raise stream.source.options.max_bytes")
        if self._fh is None and self.size <= STAGE_BYTES:
            self.parts.append(data)
            return
        if self._fh is None:
            _sweep_stages(self.dir)
            self.path = self.dir / f"stage-{os.getpid()}-{time.monotonic_ns()}.tmp"
            self._fh = open(self.path, "wb")  # noqa: SIM115 - open across add() calls, closed by close()/discard()
            self._fh.writelines(self.parts)
            self.parts = []
        self._fh.write(data)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def _sweep_stages(directory: Path) -> None:
    """Remove staging files of ingest processes that no longer run."""
    for path in directory.glob("stage-*.tmp"):
        try:
            os.kill(int(path.name.split("-")[1]), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except (ValueError, IndexError, PermissionError):
            continue


def _complete_size(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb") as fh:
        pos = size
        while pos > 0:
            step = min(65536, pos)
            fh.seek(pos - step)
            chunk = fh.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                return pos - step + nl + 1
            pos -= step
    return 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class InboxSource:
    """The Source over an inbox. ``SUPPORTS_JSON_LINES``: the lane may take raw lines and decode
    them in Arrow (fast path) instead of one Python dict per record."""

    KIND = "inbox"
    SUPPORTS_JSON_LINES = True

    def __init__(self, *, state_dir: str | Path, product: str, options: dict[str, Any] | None = None,
                 **_spec: Any) -> None:
        options = dict(options or {})
        self.inbox = Inbox(Path(state_dir) / "inbox" / product,
                           max_bytes=options.pop("max_bytes", DEFAULT_MAX_BYTES),
                           segment_bytes=options.pop("segment_bytes", DEFAULT_SEGMENT_BYTES))
        self.poll_seconds = float(options.pop("poll_seconds", 0.01))
        options.pop("max_request_bytes", None)  # the HTTP endpoint's limit, not the reader's
        if options:
            raise HeadwaterError(f"unknown inbox options: {', '.join(sorted(options))}",
                                 fix="the inbox takes max_bytes, segment_bytes, poll_seconds and "
                                     "max_request_bytes")
        self.offset = self.inbox.committed()

    def seek(self, positions: dict[str, str]) -> None:
        self.offset = int(positions[PARTITION]) if PARTITION in positions else \
            (self.inbox.segments()[0][0] if self.inbox.segments() else self.inbox.committed())

    def read_lines(self, max_records: int, timeout_seconds: float) -> tuple[bytes, int, dict[str, str]]:
        deadline = time.monotonic() + timeout_seconds
        while True:
            data, count, end = self.inbox.read_lines(self.offset, max_records)
            if count or time.monotonic() >= deadline:
                self.offset = end if count else self.offset
                return data, count, ({PARTITION: str(end)} if count else {})
            time.sleep(min(self.poll_seconds, max(0.0, deadline - time.monotonic())))

    def read(self, max_records: int, timeout_seconds: float) -> Batch:
        start = self.offset
        data, count, positions = self.read_lines(max_records, timeout_seconds)
        records, pos = [], start
        for line in data.splitlines(keepends=True):
            pos += len(line)
            records.append(Record(json.loads(line), str(pos), PARTITION))
        return Batch(records, positions)

    def commit(self, positions: dict[str, str]) -> None:
        if PARTITION in positions:
            self.inbox.acknowledge(int(positions[PARTITION]))

    def lag(self) -> dict[str, Any]:
        return self.lag_from({PARTITION: str(self.offset)})

    def lag_from(self, positions: dict[str, str]) -> dict[str, Any]:
        """Bytes after ``positions`` and bytes not yet acknowledged."""
        end = self.inbox.end()
        offset = int(positions.get(PARTITION, self.inbox.committed()))
        return {PARTITION: {"bytes": max(0, end - offset),
                            "unacknowledged_bytes": max(0, end - self.inbox.committed())}}

    def close(self) -> None:
        pass
