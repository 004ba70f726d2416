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
    """What alembic_version holds once every branch is migrated.

    Each capability owns a branch that ``depends_on`` the ledger's; Alembic records a head that
    another branch depends on only through that branch, so such heads are left out here.
    """
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    depended = {dep for rev in script.walk_revisions()
                for dep in set(rev._all_down_revisions) - set(rev._versioned_down_revisions)}
    return frozenset(h for h in script.get_heads() if h not in depended)


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
