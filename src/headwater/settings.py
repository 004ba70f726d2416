"""Settings from the environment (HEADWATER_*), layered over headwater.yaml."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEADWATER_", extra="ignore")

    project: str | None = Field(default=None, description="Project folder (HEADWATER_PROJECT).")
    catalog_url: SecretStr | None = Field(default=None, description="Overrides catalog.url.")
    ledger_url: SecretStr | None = Field(default=None, description="Overrides ledger.url.")


def redact(url: str) -> str:
    """A URL safe to print: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL: print nothing of it that could be a secret
        return url.split("@")[-1]
