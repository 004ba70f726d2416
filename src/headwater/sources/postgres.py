"""PostgreSQL logical decoding (wal2json, format 2) as a CDC source, read with psycopg 3.

Start: the slot is created over a replication connection with ``EXPORT_SNAPSHOT``; the table is
read in a REPEATABLE READ transaction that imports that snapshot, so the initial rows are exactly
the table at the slot's consistent point and the slot streams every transaction committed after
it -- no change is both in the snapshot and in the stream, and none is in neither.

Stream: ``pg_logical_slot_peek_changes`` (whole transactions, only this table via ``add-tables``)
is read without consuming; the lane commits to Iceberg, then ``commit`` advances the slot with
``pg_replication_slot_advance`` to the end LSN of the last applied transaction. A crash before the
advance re-delivers transactions at or before the committed LSN, which are skipped.

A crash during the snapshot loses the exported snapshot; the next start drops the slot and takes
a fresh snapshot (the first chunk replaces the mirror).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from headwater.clock import SYSTEM_CLOCK, Clock
from headwater.errors import HeadwaterError, NotFoundError, TransientError
from headwater.lanes.cdc.changes import Change
from headwater.sources.base import Batch, Record
from headwater.sources.pg_catalog import TableInfo, describe
from headwater.sources.pg_types import (
    arrow_type,
    decode_message,
    format_lsn,
    loads,
    parse_lsn,
    position,
    snapshot_expr,
)

PEEK = ("SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_changes(%s, NULL, %s, "
        "'format-version', '2', 'include-lsn', '1', 'include-timestamp', '1', 'include-types', '1', "
        "'include-xids', '1', 'include-pk', '1', 'include-transaction', '1', 'add-tables', %s)")


def _translate(exc: Exception, doing: str) -> HeadwaterError:
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        return TransientError(f"PostgreSQL connection failed while {doing}: {exc}",
                              fix="check cdc.source.url and that the server is up; the lane resumes "
                                  "from its last commit")
    return HeadwaterError(f"PostgreSQL refused {doing}: {exc}",
                          fix="see the message; the lane committed nothing for this batch")


class PostgresSource:
    KIND = "postgres"
    SUPPORTS_RESNAPSHOT = True  # a new slot and a new initial snapshot replace the mirror

    def __init__(self, url: str | None, table: str, slot: str, primary_key: list[str],
                 clock: Clock = SYSTEM_CLOCK, poll_seconds: float = 0.2, **_: Any) -> None:
        if not url:
            raise HeadwaterError("the postgres CDC source has no url",
                                 fix="set cdc.source.url: postgresql://user@host:5432/db (or env:VAR)")
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.table, self.slot = table, slot
        self.primary_key = primary_key
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._conn = None
        self._snap_conn = None
        self._cursor = None
        self.info: TableInfo | None = None
        self.column_types: dict[str, Any] = {}
        self._columns: dict[str, str] = {}
        self._phase = "stream"
        self._lsn = 0            # end LSN of the last transaction the mirror holds
        self._consistent = 0
        self._first = False
        self._snapshot_seq = 0
        self._snapshot_ts: datetime | None = None
        self.skipped: dict[str, int] = {}
        self.last_source_position: dict[str, Any] = {}

    @property
    def conn(self):
        if self._conn is None:
            import psycopg

            try:
                self._conn = psycopg.connect(self.url, autocommit=True)
            except psycopg.Error as exc:
                raise _translate(exc, "connecting") from exc
        return self._conn

    def _sql(self, query: str, params: tuple = (), doing: str = "a query", attempts: int = 50):
        import psycopg

        for attempt in range(attempts):
            try:
                return self.conn.execute(query, params).fetchall()
            except psycopg.errors.ObjectInUse as exc:
                # the slot is still held by the backend of a process that just died: it goes soon
                if attempt == attempts - 1:
                    raise TransientError(f"replication slot {self.slot!r} is in use: {exc}",
                                         fix="another 'headwater cdc run' of this product is running; "
                                             "stop it, or wait") from exc
                time.sleep(0.1)
            except psycopg.Error as exc:
                raise _translate(exc, doing) from exc
        return []

    def _describe(self) -> None:
        self.info = describe(self.conn, self.table, self.primary_key)
        self._columns = dict(self.info.columns)
        self.column_types = {c: arrow_type(t) for c, t in self._columns.items()}

    def _slot_exists(self) -> bool:
        return bool(self._sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (self.slot,)))

    def observe(self, positions: dict[str, str]) -> None:
        """Like seek, for reporting only: never starts a snapshot or touches the slot."""
        self._describe()
        if positions.get("lsn"):
            self._lsn = parse_lsn(positions["lsn"])

    def seek(self, positions: dict[str, str]) -> None:
        self._describe()
        if positions.get("phase") == "stream" and positions.get("lsn"):
            if not self._slot_exists():
                raise HeadwaterError(
                    f"replication slot {self.slot!r} is gone, so changes after "
                    f"{positions['lsn']} cannot be read", fix="take a new snapshot: run the product "
                    "with 'headwater cdc run PRODUCT --resnapshot'")
            self._phase, self._lsn = "stream", parse_lsn(positions["lsn"])
            return
        self._start_snapshot()

    def _start_snapshot(self) -> None:
        import psycopg

        if self._slot_exists():
            self._sql("SELECT pg_drop_replication_slot(%s)", (self.slot,), "dropping the old slot")
        try:
            repl = psycopg.connect(self.url, autocommit=True, replication="database")
        except psycopg.Error as exc:
            raise _translate(exc, "opening a replication connection") from exc
        try:
            res = repl.pgconn.exec_(f'CREATE_REPLICATION_SLOT "{self.slot}" LOGICAL wal2json '
                                    "EXPORT_SNAPSHOT".encode())
            if res.error_message:
                raise HeadwaterError(f"cannot create replication slot {self.slot!r}: "
                                     f"{res.error_message.decode().strip()}",
                                     fix="install wal2json (postgresql-15-wal2json), give the user the "
                                         "REPLICATION attribute, and check max_replication_slots")
            self._consistent = parse_lsn(res.get_value(0, 1).decode())
            snapshot_name = res.get_value(0, 2).decode()
            snap = psycopg.connect(self.url)
            snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snap.execute(f"SET TRANSACTION SNAPSHOT '{snapshot_name}'")
        except psycopg.Error as exc:
            raise _translate(exc, "starting the initial snapshot") from exc
        finally:
            repl.close()  # the importing transaction now holds the snapshot
        cols = ", ".join(snapshot_expr(c, t) for c, t in self.info.columns)
        self._cursor = snap.cursor(name="headwater_snapshot")
        self._cursor.execute(f"SELECT {cols} FROM {self.info.quoted}")
        self._snap_conn = snap
        self._phase, self._lsn, self._first = "snapshot", self._consistent, True
        self._snapshot_seq = 0
        self._snapshot_ts = self.clock.now()

    def read(self, max_records: int, timeout_seconds: float = 0.0) -> Batch:
        if self._phase == "snapshot":
            return self._read_snapshot(max_records)
        deadline = time.monotonic() + timeout_seconds
        while True:
            batch = self._read_stream(max_records)
            if batch.records or time.monotonic() >= deadline:
                return batch
            time.sleep(self.poll_seconds)

    def _read_snapshot(self, max_records: int) -> Batch:
        import psycopg

        try:
            rows = self._cursor.fetchmany(max_records)
        except psycopg.Error as exc:
            raise _translate(exc, "reading the initial snapshot") from exc
        names = [c for c, _ in self.info.columns]
        batch = Batch()
        for values in rows:
            row = dict(zip(names, values))
            self._snapshot_seq += 1  # snapshot rows sort after each other, all before the stream
            pos = position(self._consistent, self._snapshot_seq)
            batch.records.append(Record(Change("r", tuple(row[c] for c in self.primary_key), pos, row,
                                               commit_ts=self._snapshot_ts), pos))
        done = len(rows) < max_records
        batch.positions = {"phase": "stream" if done else "snapshot",
                           "lsn": format_lsn(self._consistent)}
        if self._first:
            batch.positions["first"] = "1"
            self._first = False
        if done:
            self._end_snapshot()
        return batch

    def _end_snapshot(self) -> None:
        if self._snap_conn is not None:
            self._snap_conn.rollback()
            self._snap_conn.close()
        self._snap_conn, self._cursor, self._phase = None, None, "stream"

    def _read_stream(self, max_records: int) -> Batch:
        while True:
            batch, stale = self._peek(max_records)
            if not stale:
                return batch

    def _peek(self, max_records: int) -> tuple[Batch, bool]:
        """One peek: the new changes, and whether it returned only transactions applied before."""
        rows = self._sql(PEEK, (self.slot, max_records, self.info.add_tables), "peeking changes")
        batch = Batch()
        pending: list[dict] = []
        xid, ts, last_end = None, None, None
        for _lsn, _xid, data in rows:
            msg = loads(data)
            action = msg.get("action")
            if action == "B":
                pending, xid = [], str(msg.get("xid"))
                ts = datetime.fromisoformat(msg["timestamp"]) if msg.get("timestamp") else None
            elif action in ("I", "U", "D"):
                pending.append(msg)
            elif action == "C":
                end = parse_lsn(msg.get("nextlsn") or _lsn)
                last_end = end
                if end <= self._lsn:
                    continue  # applied before a crash that lost the slot advance
                for seq, m in enumerate(pending):
                    change = decode_message(m, end, seq, self.primary_key, self._columns, ts, xid)
                    batch.records.append(Record(change, change.position))
                self.last_source_position = {"lsn": format_lsn(end), "xid": xid}
                self._lsn = end
                pending = []
            elif action == "T":
                raise HeadwaterError(f"TRUNCATE of {self.table} in transaction {xid}",
                                     fix="the lane does not apply truncates: take a new snapshot with "
                                         "'headwater cdc run PRODUCT --resnapshot'")
        for r in batch.records:
            for col, t in (r.value.types or {}).items():
                self.column_types[col] = t
        if batch.records:
            batch.positions = {"phase": "stream", "lsn": format_lsn(self._lsn)}
        elif last_end is not None and last_end > self._lsn:
            # only transactions of other tables: nothing to commit, release their WAL now
            self._advance(last_end)
            self._lsn = last_end
        elif last_end is not None:
            # every transaction peeked was applied before a crash that lost the slot advance: move
            # the slot to the committed position and peek again, or every later peek returns the
            # same ones (a peek of max_records changes may hold none of the new ones)
            return batch, self._advance(self._lsn)  # (not moved: nothing more to skip)
        return batch, False

    def _advance(self, lsn: int) -> bool:
        """Move the slot's confirmed position to ``lsn``; False if it was there already."""
        confirmed = self._sql("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                              "WHERE slot_name = %s", (self.slot,))
        if confirmed and confirmed[0][0] and parse_lsn(confirmed[0][0]) >= lsn:
            return False
        self._sql("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (self.slot, format_lsn(lsn)),
                  "advancing the replication slot")
        return True

    def commit(self, positions: dict[str, str]) -> None:
        """Advance the slot to the committed LSN (called only after the Iceberg commit)."""
        if positions.get("phase") == "stream" and positions.get("lsn"):
            self._advance(parse_lsn(positions["lsn"]))

    def lag(self) -> dict[str, Any]:
        if self.info is None:
            self._describe()
        rows = self._sql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, "
                         "confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s",
                         (self.slot,), "reading the slot's lag")
        if not rows:
            raise NotFoundError(f"no replication slot {self.slot!r}",
                                fix="run the product once: headwater cdc run PRODUCT")
        out: dict[str, Any] = {"bytes": int(rows[0][0] or 0), "confirmed_lsn": rows[0][1]}
        first = self._sql(PEEK, (self.slot, 1, self.info.add_tables), "peeking changes") \
            if out["bytes"] else []
        stamps = [loads(d).get("timestamp") for _, _, d in first]
        stamps = [s for s in stamps if s]
        # None: nothing of this table is pending (the WAL behind may be other tables')
        out["oldest_commit_ts"] = datetime.fromisoformat(stamps[0]) if stamps else None
        return {self.slot: out}

    def close(self) -> None:
        if self._snap_conn is not None:
            self._snap_conn.close()
            self._snap_conn = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
