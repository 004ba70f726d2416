"""What each product promises: the tier's objectives with the product's overrides applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from headwater.errors import HeadwaterError
from headwater.spec.types import format_duration, parse_duration


@dataclass(frozen=True)
class Objectives:
    """The resolved SLOs of one product (tier defaults, then per-product overrides)."""

    product: str
    tier: str
    freshness: timedelta
    completeness: float
    availability: float
    window: timedelta
    expected_rows_min: int | None = None
    overridden: tuple[str, ...] = ()

    def target(self, sli: str) -> float:
        """The share of good events each budgeted SLI must reach.

        Freshness is a time-based SLI (the share of minutes the data was fresher than the
        threshold) held to the availability target; validity, a share of rows, to completeness.
        """
        return {"freshness": self.availability, "availability": self.availability,
                "completeness": self.completeness, "validity": self.completeness}[sli]

    def to_dict(self) -> dict:
        return {"product": self.product, "tier": self.tier,
                "freshness": format_duration(self.freshness), "completeness": self.completeness,
                "availability": self.availability, "window": format_duration(self.window),
                "expected_rows_min": self.expected_rows_min, "overridden": list(self.overridden)}


def objectives_for(project, name: str) -> Objectives:
    product = project.product(name)
    tiers = project.tiers
    tier = tiers.get(product.tier)
    if tier is None:
        raise HeadwaterError(f"{name!r} is in tier {product.tier!r}, which is not defined",
                             fix=f"use one of {', '.join(sorted(tiers))} or declare it under 'tiers:' "
                                 "in headwater.yaml")
    slo = product.slo
    overridden = tuple(k for k in ("freshness", "completeness", "availability", "window")
                       if getattr(slo, k) is not None)
    return Objectives(
        product=name, tier=product.tier,
        freshness=parse_duration(slo.freshness if slo.freshness is not None else tier.freshness),
        completeness=slo.completeness if slo.completeness is not None else tier.completeness,
        availability=slo.availability if slo.availability is not None else tier.availability,
        window=parse_duration(slo.window if slo.window is not None else tier.window),  # a default is not validated
        expected_rows_min=slo.expected_rows_min, overridden=overridden)
