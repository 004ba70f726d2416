"""Event ingest over HTTP: ``POST /api/v1/ingest/{product}`` into the product's durable inbox.

The body is a JSON array of objects or JSON lines. Answers:

    202  appended and fsynced (durable) -- the consumer will commit them exactly once
    400  not JSON objects, or the product is not fed by the inbox
    404  no such streaming product
    413  body larger than the limit (``stream.source.options.max_request_bytes``, default 16 MiB)
    429  the inbox holds as many unacknowledged bytes as its bound allows (``Retry-After``)

The body is read incrementally and refused as soon as it passes the limit, so a large upload
never sits in memory whole; a full inbox refuses instead of buffering (backpressure).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

router = APIRouter(tags=["ingest"])

DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
RETRY_AFTER_SECONDS = 1


def _error(status: int, kind: str, message: str, fix: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message, "fix": fix}, status_code=status, headers=headers)


@router.post("/api/v1/ingest/{product}", status_code=202)
async def ingest(product: str, request: Request):
    """Append events (a JSON array, or JSON lines) to a streaming product's inbox."""
    from headwater.sources.inbox import BadPayload, InboxFull

    platform = request.app.state.platform
    inbox = platform.streaming.inbox(product)  # NotFoundError -> 404, not-an-inbox -> 400
    spec = platform.project.product(product).stream.source
    limit = int(spec.options.get("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES))
    declared = request.headers.get("content-length")
    too_big = (f"the body is larger than {limit:,} bytes",
               "send smaller batches, or raise stream.source.options.max_request_bytes")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _error(413, "PayloadTooLarge", *too_big)
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _error(413, "PayloadTooLarge", *too_big)
        parts.append(chunk)
    try:
        done = await run_in_threadpool(inbox.append, b"".join(parts))
    except BadPayload as exc:
        return _error(400, "BadPayload", exc.message, exc.fix)
    except InboxFull as exc:
        return _error(429, "InboxFull", exc.message, exc.fix,
                      headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return {"product": product, "accepted": done.records, "end_offset": done.end_offset}
