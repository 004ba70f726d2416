"""The project file, ``headwater.yaml``: name, state folder, tiers, catalog, ledger, engine."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from headwater.spec.alerting import AlertingConfig
from headwater.spec.cost import CostConfig
from headwater.spec.types import Duration, Identifier


class Strict(BaseModel):
    """Base of every spec model: an unknown key is an error, never a silent pass."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TierSpec(Strict):
    """What a service tier promises; products inherit it and may override each objective."""

    freshness: Duration = Field(description="Maximum age of the newest complete data, e.g. 15m.")
    completeness: float = Field(ge=0, le=1, description="Share of expected rows delivered, e.g. 0.999.")
    availability: float = Field(ge=0, le=1, description="Share of scheduled runs on time, e.g. 0.999.")
    window: Duration = Field(default="30d", description="SLO compliance window.")
    cost_of_delay_per_hour: float = Field(
        default=0.0, ge=0, description="Money lost per hour of lateness, used by diagnosis."
    )
    description: str = ""


DEFAULT_TIERS: dict[str, dict] = {
    "customer-facing": {"freshness": "15m", "completeness": 0.999, "availability": 0.999,
                        "cost_of_delay_per_hour": 1000.0,
                        "description": "Shown to customers (PDP price and availability, fraud)."},
    "ops": {"freshness": "60m", "completeness": 0.99, "availability": 0.999,
            "cost_of_delay_per_hour": 200.0,
            "description": "Operations and merchants (supplier SLAs, fulfilment)."},
    "finance": {"freshness": "24h", "completeness": 0.99, "availability": 0.995,
                "cost_of_delay_per_hour": 500.0,
                "description": "Finance close and reporting."},
}


class CatalogSpec(Strict):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the Iceberg SQL catalog; default: a SQLite file in the state "
        "folder. Overridden by HEADWATER_CATALOG_URL.",
        examples=["postgresql+psycopg://headwater@127.0.0.1/headwater"],
    )
    warehouse: str | None = Field(
        default=None, description="Where table files live; default: <state>/warehouse."
    )
    namespace: Identifier | None = Field(
        default=None, description="Iceberg namespace of the project's tables; default: the project name."
    )


class LedgerSpec(Strict):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the run ledger; default: a SQLite file in the state folder. "
        "Overridden by HEADWATER_LEDGER_URL.",
    )


class EngineSpec(Strict):
    kind: str = Field(default="duckdb", description="The engine that runs transforms.")
    threads: int | None = Field(default=None, ge=1, description="Threads per query; default: all cores.")
    memory_limit: str | None = Field(default=None, description="e.g. '4GB'; default: the engine's own.")


class RunSpec(Strict):
    parallelism: int = Field(default=2, ge=1, le=64, description="Products run at once.")


class ProjectConfig(Strict):
    """The content of headwater.yaml."""

    name: Identifier = Field(description="The project's name, e.g. ecommerce.")
    description: str = ""
    state_dir: str = Field(default=".headwater", description="Folder for the catalog, ledger and warehouse.")
    tiers: dict[str, TierSpec] = Field(
        default_factory=dict,
        description="Tiers beyond (or overriding) the defaults customer-facing, ops and finance.",
    )
    catalog: CatalogSpec = Field(default_factory=CatalogSpec)
    ledger: LedgerSpec = Field(default_factory=LedgerSpec)
    engine: EngineSpec = Field(default_factory=EngineSpec)
    run: RunSpec = Field(default_factory=RunSpec)
    cost: CostConfig = Field(default_factory=CostConfig, description="Rates, storage classes and budgets (docs/cost.md).")
    alerting: AlertingConfig = Field(default_factory=AlertingConfig, description="Alert sinks and incident grouping (docs/slos.md).")

    def all_tiers(self) -> dict[str, TierSpec]:
        tiers = {name: TierSpec.model_validate(t) for name, t in DEFAULT_TIERS.items()}
        tiers.update(self.tiers)
        return tiers
