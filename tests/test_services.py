"""The real services the test-suite relies on answer, and have the features we need.

These talk to the servers started by scripts/services.sh (see tests/services.py).
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import uuid
from urllib.parse import urlsplit

import pytest

from tests.services import fresh_database

# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgres_answers_with_logical_wal(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SHOW wal_level").fetchone() == ("logical",)
        slots = int(conn.execute("SHOW max_replication_slots").fetchone()[0])
        assert slots >= 10
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'plpgsql'"
        ).fetchone()
        assert available is not None


@pytest.mark.postgres
def test_fresh_database_is_new_empty_and_dropped(pg_url: str) -> None:
    import psycopg

    with fresh_database(pg_url) as url:
        assert url.startswith("postgresql+psycopg://")
        dbname = urlsplit(url).path.lstrip("/")
        assert dbname.startswith("hw_test_")
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (dbname,)
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
            assert tables == (0,)
            # A logical slot pins its database; the teardown must still drop it.
            conn.execute("SELECT pg_create_logical_replication_slot(%s, 'wal2json')", (dbname,))
            conn.commit()
            # ...and a session still open at teardown must not block it either.
            leftover = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
    try:
        with psycopg.connect(pg_url) as conn:
            left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (dbname,))
            assert left.fetchone() == (0,)
            slots = conn.execute(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s", (dbname,)
            )
            assert slots.fetchone() == (0,)
    finally:
        leftover.close()


@pytest.mark.postgres
def test_wal2json_decodes_changes_in_fresh_database(fresh_pg_database: str) -> None:
    import psycopg

    libpq_url = fresh_pg_database.replace("postgresql+psycopg://", "postgresql://", 1)
    slot = f"probe_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("SELECT * FROM pg_create_logical_replication_slot(%s, 'wal2json')", (slot,))
        try:
            conn.execute("CREATE TABLE probe (id int PRIMARY KEY, name text)")
            conn.execute("INSERT INTO probe VALUES (1, 'headwater')")
            rows = conn.execute(
                "SELECT data FROM pg_logical_slot_get_changes(%s, NULL, NULL,"
                " 'format-version', '2')",
                (slot,),
            ).fetchall()
        finally:
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    changes = [json.loads(r[0]) for r in rows]
    inserts = [c for c in changes if c.get("action") == "I"]
    assert len(inserts) == 1, changes
    assert inserts[0]["table"] == "probe"
    assert {c["name"]: c["value"] for c in inserts[0]["columns"]} == {"id": 1, "name": "headwater"}


# -------------------------------------------------------------------------------- Redis


def _resp_command(sock: socket.socket, *args: str) -> bytes:
    """Send one RESP command and return the raw reply (simple, integer or bulk)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    sock.sendall(out)
    reply = b""
    while True:
        chunk = sock.recv(4096)
        assert chunk, "Redis closed the connection"
        reply += chunk
        if not reply.endswith(b"\r\n"):
            continue
        if reply.startswith(b"$"):
            size = int(reply.split(b"\r\n", 1)[0][1:])
            if size >= 0 and len(reply) < len(b"$%d\r\n" % size) + size + 2:
                continue
        return reply


@pytest.mark.redis
def test_redis_ping_set_get(redis_url: str) -> None:
    parts = urlsplit(redis_url)
    assert parts.scheme == "redis"
    db = (parts.path or "/0").lstrip("/") or "0"
    key = f"headwater:test:{uuid.uuid4().hex}"
    with socket.create_connection((parts.hostname, parts.port or 6379), timeout=5) as sock:
        assert _resp_command(sock, "PING") == b"+PONG\r\n"
        assert _resp_command(sock, "SELECT", db) == b"+OK\r\n"
        assert _resp_command(sock, "SET", key, "v1", "EX", "60") == b"+OK\r\n"
        assert _resp_command(sock, "GET", key) == b"$2\r\nv1\r\n"
        assert _resp_command(sock, "DEL", key) == b":1\r\n"


# --------------------------------------------------------------------------------- NATS


class _RawNats:
    """Just enough of the NATS text protocol to check the server for real."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 4222), timeout=5)
        self.buf = b""
        line = self._line()
        assert line.startswith(b"INFO "), line
        self.info = json.loads(line[5:])
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n')
        assert self._line() == b"PONG"
        self.sid = 0

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("NATS closed the connection")
        self.buf += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def request(self, subject: str, payload: bytes = b"", timeout: float = 5.0) -> bytes:
        self.sid += 1
        inbox = f"_INBOX.{uuid.uuid4().hex}"
        self.sock.sendall(
            b"SUB %s %d\r\nPUB %s %s %d\r\n%s\r\n"
            % (inbox.encode(), self.sid, subject.encode(), inbox.encode(), len(payload), payload)
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._line()
            if line == b"PING":
                self.sock.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise AssertionError(line)
            elif line.startswith(b"MSG "):
                size = int(line.split()[-1])
                while len(self.buf) < size + 2:
                    self._fill()
                body, self.buf = self.buf[:size], self.buf[size + 2 :]
                self.sock.sendall(b"UNSUB %d\r\n" % self.sid)
                return body
        raise TimeoutError(f"no reply on {subject}")

    def close(self) -> None:
        self.sock.close()


@pytest.mark.nats
def test_nats_info_says_jetstream(nats_url: str) -> None:
    parts = urlsplit(nats_url)
    with socket.create_connection((parts.hostname, parts.port or 4222), timeout=5) as sock:
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            assert chunk, "NATS closed the connection before INFO"
            data += chunk
    line = data.split(b"\r\n", 1)[0].decode()
    assert line.startswith("INFO ")
    assert '"jetstream":true' in line
    assert json.loads(line[5:])["jetstream"] is True


@pytest.mark.nats
def test_nats_jetstream_stores_a_message(nats_url: str) -> None:
    nc = _RawNats(nats_url)
    try:
        info = json.loads(nc.request("$JS.API.INFO"))
        assert info["type"] == "io.nats.jetstream.api.v1.account_info_response", info
        assert "error" not in info, info
        name = f"HWPROBE_{uuid.uuid4().hex[:8].upper()}"
        config = {"name": name, "subjects": [f"hwprobe.{name}"], "storage": "file"}
        created = json.loads(nc.request(f"$JS.API.STREAM.CREATE.{name}", json.dumps(config).encode()))
        assert "error" not in created, created
        try:
            ack = json.loads(nc.request(f"hwprobe.{name}", b"hello"))
            assert ack.get("stream") == name and ack.get("seq") == 1, ack
            got = json.loads(
                nc.request(f"$JS.API.STREAM.MSG.GET.{name}", json.dumps({"seq": 1}).encode())
            )
            assert "error" not in got, got
            assert base64.b64decode(got["message"]["data"]) == b"hello"
        finally:
            deleted = json.loads(nc.request(f"$JS.API.STREAM.DELETE.{name}"))
            assert deleted.get("success") is True, deleted
    finally:
        nc.close()


# ----------------------------------------------------------------------------- Chromium


def test_chromium_renders_a_page_headless(chromium_path: str, tmp_path) -> None:
    page = "data:text/html,<html><body><p id=hw>headwater-ok</p></body></html>"
    result = subprocess.run(
        [
            chromium_path,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '<p id="hw">headwater-ok</p>' in result.stdout, result.stdout[-2000:]
