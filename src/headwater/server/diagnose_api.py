"""Impact and diagnosis over HTTP: the same reports as ``headwater impact`` and ``headwater diagnose --json``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

router = APIRouter(tags=["lineage"])


@router.get("/api/v1/impact")
def get_impact(request: Request, target: str = Query(..., description="PRODUCT, PRODUCT.COLUMN or a dataset.")):
    """Everything a change to a dataset or column reaches, with owners and consumers."""
    return request.app.state.platform.lineage.impact(target)


@router.get("/api/v1/diagnosis")
def get_diagnosis(request: Request,
                  target: str = Query(..., description="A product, or any OpenLineage job or dataset."),
                  run: str | None = Query(None, description="A headwater run id or an OpenLineage runId."),
                  at: str | None = Query(None, description="The latest run finished by this ISO-8601 time."),
                  cost_per_hour: float | None = Query(None, ge=0, description="Override the cost of delay.")):
    """Ranked findings for a late or slow target: ``{"target", "symptom", "findings"}``."""
    from headwater.errors import HeadwaterError
    from headwater.ledger.openlineage import parse_time

    when = None
    if at:
        try:
            when = parse_time(at)
        except ValueError:
            raise HeadwaterError(f"at={at!r} is not a time", fix="write it as 2026-03-06T06:00:00Z") from None
    report = request.app.state.platform.diagnosis.diagnose(target, run=run, at=when, cost_per_hour=cost_per_hour)
    return report.to_dict()
