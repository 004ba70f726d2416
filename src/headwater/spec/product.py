"""Data products: what a team declares once. The lane is a discriminated union on ``lane``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from headwater.spec.config import Strict
from headwater.spec.types import Duration, Identifier


class Owner(Strict):
    """Who answers for a product: the team and how to reach whoever is on call."""

    team: str = Field(description="Owning team, e.g. finance-data.")
    oncall: str = Field(description="On-call contact: an e-mail, a pager handle or a channel.")
    people: list[str] = Field(default_factory=list, description="Named maintainers.")
    runbook: str | None = Field(default=None, description="Link or path to the runbook.")


class Consumer(Strict):
    """A declared consumer (a dashboard, a model, another team) that must hear about changes."""

    name: str
    owner: str | None = None
    reads: str | None = Field(default=None, description="How often it reads, e.g. 1h (for tier checks).")


class Transform(Strict):
    """Exactly one of ``sql`` (a .sql file) or ``python`` ('file.py:function')."""

    sql: str | None = Field(default=None, description="Path of a .sql file, relative to the project.")
    python: str | None = Field(
        default=None,
        description="'path/to/file.py:function' returning an Arrow table or DuckDB relation.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Transform:
        if (self.sql is None) == (self.python is None):
            raise ValueError("the transform names both or neither of sql and python: "
                             "give exactly one of 'sql: sql/<name>.sql' or 'python: file.py:function'")
        if self.python is not None and ":" not in self.python:
            raise ValueError("the python transform has no function: write it as 'file.py:function'")
        return self


class Partitioning(Strict):
    column: str = Field(description="A DATE column of the output; each value is one partition.")


class SloOverrides(Strict):
    """Per-product overrides of the tier's objectives."""

    freshness: Duration | None = None
    completeness: float | None = Field(default=None, ge=0, le=1)
    availability: float | None = Field(default=None, ge=0, le=1)
    window: Duration | None = None
    expected_rows_min: int | None = Field(default=None, ge=0, description="Fewer rows is a violation.")


class Retention(Strict):
    snapshots: Duration = Field(default="30d", description="Keep snapshots newer than this.")
    min_snapshots: int = Field(default=3, ge=1, description="Always keep at least this many.")


class CostSpec(Strict):
    budget_per_month: float | None = Field(default=None, ge=0)
    cost_of_delay_per_hour: float | None = Field(default=None, ge=0)


class ProductBase(Strict):
    name: Identifier = Field(description="Unique product name; also its table name.")
    description: str = ""
    domain: str = Field(description="Business domain that owns it, e.g. sales.")
    owner: Owner
    tier: str = Field(description="customer-facing, ops, finance or a tier defined in headwater.yaml.")
    inputs: list[str] = Field(default_factory=list, description="Products or sources it reads.")
    transform: Transform | None = None
    partitioning: Partitioning | None = None
    primary_key: list[str] = Field(default_factory=list)
    contract: str | None = Field(default=None, description="Path of the contract file.")
    slo: SloOverrides = Field(default_factory=SloOverrides)
    retention: Retention = Field(default_factory=Retention)
    cost: CostSpec = Field(default_factory=CostSpec)
    consumers: list[Consumer] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    schedule: str | None = Field(default=None, description="Cron expression or @daily / @hourly.")


class BatchProduct(ProductBase):
    lane: Literal["batch"] = "batch"

    @model_validator(mode="after")
    def _needs_transform(self) -> BatchProduct:
        if self.transform is None:
            raise ValueError("a batch product needs a transform: add 'transform: {sql: sql/<name>.sql}'")
        return self


class StreamSourceSpec(Strict):
    kind: Literal["inbox", "redis", "nats", "kafka", "fault"] = "inbox"
    url: str | None = None
    stream: str | None = Field(default=None, description="Stream, subject or topic name.")
    group: str | None = Field(default=None, description="Consumer group or durable name.")
    options: dict[str, Any] = Field(default_factory=dict)


class DedupeSpec(Strict):
    key: list[str]
    window: Duration = "24h"


class WindowSpec(Strict):
    name: Identifier
    kind: Literal["tumbling", "sliding"] = "tumbling"
    size: Duration
    slide: Duration | None = None
    group_by: list[str] = Field(default_factory=list)
    aggregates: dict[str, str] = Field(description="output column -> SQL aggregate, e.g. count(*)")


class StreamSpec(Strict):
    source: StreamSourceSpec = Field(default_factory=StreamSourceSpec)
    event_time: str = Field(description="Field holding the event time.")
    allowed_lateness: Duration = "5m"
    idle_timeout: Duration = "1m"
    late_policy: Literal["drop", "quarantine", "update"] = "quarantine"
    dedupe: DedupeSpec | None = None
    max_batch_rows: int = Field(default=50_000, ge=1)
    max_batch_seconds: float = Field(default=1.0, gt=0)
    windows: list[WindowSpec] = Field(default_factory=list)
    keep_snapshots: Duration | None = Field(
        default="30m",
        description="Expire snapshots of the streaming table older than this (every micro-batch is a "
                    "snapshot and commits slow down as they accumulate); null keeps them per retention.")


class StreamingProduct(ProductBase):
    lane: Literal["streaming"]
    stream: StreamSpec


class CdcSourceSpec(Strict):
    kind: Literal["postgres", "debezium"]
    url: str | None = Field(default=None, description="PostgreSQL URL (postgres) or inbox/redis/kafka URL.")
    table: str = Field(description="Source table, schema-qualified, e.g. public.orders.")
    slot: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class CdcSpec(Strict):
    source: CdcSourceSpec
    history: bool = Field(default=False, description="Also keep an SCD2 history table.")


class CdcProduct(ProductBase):
    lane: Literal["cdc"]
    cdc: CdcSpec


Product = Annotated[BatchProduct | StreamingProduct | CdcProduct, Field(discriminator="lane")]
LANES = ("batch", "streaming", "cdc")
