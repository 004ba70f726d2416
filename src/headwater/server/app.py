"""The FastAPI app factory. Routers register in ``ROUTER_MODULES``, one line each.

Each entry is ``"module:attribute"`` naming an ``APIRouter`` (or a function ``platform ->
APIRouter``). A router reaches the platform through ``request.app.state.platform``; add
your module to the list to add endpoints, exactly like ``headwater.cli.COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib

ROUTER_MODULES: list[str] = [
    "headwater.server.lineage_api:router",
    "headwater.server.ingest:router",
    "headwater.server.diagnose_api:router",
]


def _load(target: str, platform):
    module, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module), attr or "router")
    from fastapi import APIRouter

    return obj if isinstance(obj, APIRouter) else obj(platform)


def create_app(platform, routers: list[str] | None = None):
    """A FastAPI app serving ``platform``; every HeadwaterError becomes a JSON error with its fix."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    from headwater import __version__
    from headwater.errors import HeadwaterError, NotFoundError

    app = FastAPI(title="headwater", version=__version__,
                  description="A control plane for data platforms: lineage, diagnosis, ingest.")
    app.state.platform = platform

    @app.exception_handler(HeadwaterError)
    async def _error(request: Request, exc: HeadwaterError):
        status = 404 if isinstance(exc, NotFoundError) else 400
        return JSONResponse(exc.to_dict(), status_code=status)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict:
        return {"status": "ok", "project": platform.project.name, "version": __version__}

    for target in ROUTER_MODULES if routers is None else routers:
        app.include_router(_load(target, platform))
    return app
