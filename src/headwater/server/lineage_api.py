"""OpenLineage over HTTP, Marquez-compatible: POST /api/v1/lineage and GET /api/v1/lineage."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

router = APIRouter(tags=["lineage"])
