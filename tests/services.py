"""Pytest plugin: fixtures for the real services the tests talk to.

Loaded from tests/conftest.py with ``pytest_plugins = ["tests.services"]``.

The services are started by ``scripts/services.sh start`` (``.ci/run`` does this), which
also prints their addresses: ``eval "$(scripts/services.sh env)"``.

A fixture whose environment variable is missing skips its test with a hint on how to
start the service -- except under CI (``CI=true``), where it fails instead, so that CI
never passes by silently skipping the real-service tests.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

START_HINT = 'start it with: scripts/services.sh start; eval "$(scripts/services.sh env)"'


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _required_env(var: str, what: str, hint: str = START_HINT) -> str:
    value = os.environ.get(var, "").strip()
    if value:
        return value
    message = f"{what} not configured: {var} is not set; {hint}"
    if _in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """libpq URL of the test PostgreSQL server, e.g. postgresql://headwater@127.0.0.1:54329/headwater."""
    return _required_env("HEADWATER_TEST_PG_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis, e.g. redis://127.0.0.1:63799/0."""
    return _required_env("HEADWATER_TEST_REDIS_URL", "Redis")


@pytest.fixture(scope="session")
def nats_url() -> str:
    """URL of the test NATS server (JetStream on), e.g. nats://127.0.0.1:42229."""
    return _required_env("HEADWATER_TEST_NATS_URL", "NATS")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of a Chromium binary for headless browser tests, e.g. /usr/bin/chromium."""
    path = _required_env(
        "HEADWATER_TEST_CHROMIUM",
        "Chromium",
        'install it with: apt-get install chromium chromium-driver; eval "$(scripts/services.sh env)"',
    )
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        message = f"HEADWATER_TEST_CHROMIUM={path} is not an executable file"
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def _with_database(url: str, dbname: str, scheme: str | None = None) -> str:
    """The same server URL pointing at another database (and optionally another scheme)."""
    parts = urlsplit(url)
    return urlunsplit(
        (scheme or parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment)
    )


def _drop_database(admin, dbname: str) -> None:
    """Drop a database even if sessions or replication slots still use it."""
    from psycopg import errors, sql

    for _ in range(50):
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        )
        # A logical slot pins its database: DROP DATABASE refuses while one exists.
        busy = False
        slots = admin.execute(
            "SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = %s",
            (dbname,),
        ).fetchall()
        for slot_name, active_pid in slots:
            if active_pid is not None:
                admin.execute("SELECT pg_terminate_backend(%s)", (active_pid,))
                busy = True
                continue
            try:
                admin.execute("SELECT pg_drop_replication_slot(%s)", (slot_name,))
            except (errors.ObjectInUse, errors.UndefinedObject):
                busy = True
        if not busy:
            try:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(dbname)
                    )
                )
                return
            except errors.ObjectInUse:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"could not drop test database {dbname!r}")


@contextmanager
def fresh_database(pg_url: str, prefix: str = "hw_test_") -> Iterator[str]:
    """Create a new, empty database on the server of ``pg_url``; drop it on exit.

    Yields its SQLAlchemy URL (``postgresql+psycopg://.../<name>``). The drop
    terminates leftover sessions and removes logical replication slots first.
    """
    import psycopg
    from psycopg import sql

    dbname = f"{prefix}{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        yield _with_database(pg_url, dbname, scheme="postgresql+psycopg")
    finally:
        with psycopg.connect(pg_url, autocommit=True, connect_timeout=10) as admin:
            _drop_database(admin, dbname)


@pytest.fixture
def fresh_pg_database(pg_url: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped after the test.

    Yields its SQLAlchemy URL, e.g.
    ``postgresql+psycopg://headwater@127.0.0.1:54329/hw_test_1a2b3c4d5e6f``.
    """
    with fresh_database(pg_url) as url:
        yield url
