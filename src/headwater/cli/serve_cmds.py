"""headwater serve: the HTTP API (OpenLineage endpoint and every registered router)."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli.output import ProjectOpt, platform


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 exposes it to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port (1-65535).")] = 5000,
    project: ProjectOpt = None,
) -> None:
    """Serve the HTTP API: POST/GET /api/v1/lineage (Marquez-compatible) and the other routers."""
    from headwater.errors import HeadwaterError

    try:
        import uvicorn
    except ImportError:
        raise HeadwaterError("the HTTP server needs uvicorn and fastapi",
                             fix="pip install 'headwater[server]'") from None
    from headwater.server.app import create_app

    hw = platform(project)
    hw.project  # fail here, with the spec error, rather than on the first request
    uvicorn.run(create_app(hw), host=host, port=port, log_level="info")
