"""The ``cost:`` section of headwater.yaml: rates, storage classes, retention tiers, budgets.

Every rate has a documented default (list prices of a typical public cloud, rounded), so a project
gets a showback without writing anything; a team replaces them with its negotiated prices.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from headwater.spec.types import Duration, parse_duration


class Strict(BaseModel):
    """As ``spec.config.Strict`` (not imported: config.py imports this module)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


class Rates(Strict):
    """Unit prices applied to what the ledger and the lakehouse measured."""

    cpu_hour: float = Field(default=0.048, ge=0, description="Per CPU-hour of step compute (ledger cpu_seconds).")
    memory_gb_hour: float = Field(
        default=0.0064, ge=0,
        description="Per GB-hour of memory held by a step (peak memory x wall time).")
    egress_gb: float = Field(default=0.09, ge=0,
                             description="Per GB served out of the platform (query, HTTP API).")
    scan_gb: float = Field(default=0.005, ge=0,
                           description="Per GB scanned by a step reading its inputs.")
    per_run: float = Field(default=0.0005, ge=0,
                           description="Fixed cost of one step run (scheduling, commit, ledger).")
    control_plane_per_month: float = Field(
        default=60.0, ge=0,
        description="The control plane itself (catalog and ledger databases, server), shared "
                    "between products by the rule in docs/cost.md.")


class RetentionTier(Strict):
    """A band of snapshot retention, and the storage class its history files live in."""

    name: str = Field(description="e.g. short, standard, long.")
    up_to: Duration | None = Field(default=None,
                                   description="Retention up to this long falls in the tier; none: any.")
    storage_class: str = Field(description="A key of cost.storage_classes.")


DEFAULT_STORAGE_CLASSES = {"hot": 0.023, "warm": 0.0125, "cold": 0.004}
DEFAULT_RETENTION_TIERS = [
    {"name": "short", "up_to": "7d", "storage_class": "hot"},
    {"name": "standard", "up_to": "30d", "storage_class": "hot"},
    {"name": "long", "up_to": "180d", "storage_class": "warm"},
    {"name": "archive", "storage_class": "cold"},
]


class Budgets(Strict):
    """Monthly budgets by domain (products declare their own in ``cost.budget_per_month``)."""

    domains: dict[str, float] = Field(default_factory=dict, description="domain -> budget per month.")
    alert_at: list[float] = Field(default=[0.8, 1.0],
                                  description="Shares of a budget at which to alert (actual and forecast).")
    forecast_window: Duration = Field(default="14d",
                                      description="Days of daily cost the forecast's trend is fitted on.")


class CostConfig(Strict):
    """How headwater prices what it measured."""

    currency: str = Field(default="USD", description="Shown next to every amount.")
    rates: Rates = Field(default_factory=Rates)
    storage_classes: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_STORAGE_CLASSES),
        description="Storage class -> price per GB-month.")
    current_storage_class: str = Field(
        default="hot", description="Class of the files the current snapshot references.")
    retention_tiers: list[RetentionTier] = Field(
        min_length=1, default_factory=lambda: [RetentionTier.model_validate(t) for t in DEFAULT_RETENTION_TIERS],
        description="Ordered bands; a product's retention.snapshots picks the first that holds it, "
                    "and its history files are priced at that tier's storage class.")
    budgets: Budgets = Field(default_factory=Budgets)
    unread_after: Duration = Field(
        default="30d",
        description="A product that existed this long without a read is a waste candidate "
                    "('headwater cost waste'); a younger one is not judged yet.")

    @model_validator(mode="after")
    def _classes_exist(self) -> CostConfig:
        known = set(self.storage_classes)
        for name in [self.current_storage_class, *(t.storage_class for t in self.retention_tiers)]:
            if name not in known:
                raise ValueError(f"storage class {name!r} is not in cost.storage_classes "
                                 f"({', '.join(sorted(known))})")
        return self

    def retention_tier(self, keep: timedelta | str) -> RetentionTier:
        keep = parse_duration(keep)  # a field default ('30d') is not run through validation
        for tier in self.retention_tiers:
            if tier.up_to is None or keep <= tier.up_to:
                return tier
        return self.retention_tiers[-1]
