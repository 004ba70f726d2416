"""OpenLineage over HTTP, Marquez-compatible: POST /api/v1/lineage and GET /api/v1/lineage.

POST takes one event (as Marquez does) or a JSON list of events: 201 when stored, 201 too for
an event stored before (idempotent on runId, eventType, eventTime and job), 400 with the reason
for a spec violation or a body that is not JSON. GET returns the graph around ``nodeId``.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

router = APIRouter(tags=["lineage"])


@router.post("/api/v1/lineage", status_code=201)
async def post_lineage(request: Request):
    """Store OpenLineage run, job or dataset events (spec 2-0-2)."""
    body = await request.body()
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return JSONResponse({"error": "BadRequest", "message": f"the body is not JSON: {exc}",
                             "fix": "POST one OpenLineage event as a JSON object"}, status_code=400)
    platform = request.app.state.platform
    events = doc if isinstance(doc, list) else [doc]
    if not events:
        return JSONResponse({"error": "BadRequest", "message": "an empty list has no event",
                             "fix": "POST one OpenLineage event as a JSON object"}, status_code=400)
    # validation and the ledger write block: run them off the event loop, like a sync endpoint
    result = await run_in_threadpool(platform.lineage.ingest, events, "http")
    if result.rejected:
        first = result.rejected[0]
        where = f"event {first.index}: " if isinstance(doc, list) else ""
        return JSONResponse({"error": "BadRequest",
                             "message": where + "; ".join(str(p) for p in first.problems),
                             "fix": "send an event valid against "
                                    "https://openlineage.io/spec/2-0-2/OpenLineage.json",
                             **result.to_dict()}, status_code=400)
    return JSONResponse(result.to_dict(), status_code=201)


@router.get("/api/v1/lineage")
def get_lineage(request: Request, nodeId: str = Query(..., description="dataset:<ns>:<name> or job:<ns>:<name>"),
                depth: int = Query(20, ge=0, le=100, description="How many jobs away to go, each way.")):
    """The lineage graph around a node, in Marquez's response shape."""
    return request.app.state.platform.lineage.marquez(nodeId, depth)
