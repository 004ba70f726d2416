"""Bring a ledger database to the newest schema with Alembic; cheap when it already is."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def expected_heads() -> frozenset[str]:
    """Every branch head in the migrations folder (each capability may own a branch)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_config()).get_heads())


def current_heads(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return frozenset()
        return frozenset(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (no-op when the database is at all heads)."""
    if current_heads(engine) == expected_heads():
        return
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_config(conn), "heads")
