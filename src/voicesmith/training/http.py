"""HTTP answers shared by the JSON API and the job page: the job-update feed, voice downloads."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

from fastapi import Request
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from voicesmith.config import Settings
from voicesmith.datasets.http import zip_download
from voicesmith.training import exports
from voicesmith.training.follow import JobUpdate

EVENT_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event_response(request: Request, updates: Iterator[JobUpdate]) -> StreamingResponse:
    """`progress` and `status` events until the job ends or the client goes."""
    stream = _events(request, updates)
    return StreamingResponse(stream, media_type="text/event-stream", headers=dict(HEADERS))


async def _events(request: Request, updates: Iterator[JobUpdate]) -> AsyncIterator[str]:
    """Poll the feed, emit what changed, and keep an idle connection alive."""
    idle = 0.0
    while not await request.is_disconnected():
        update = await run_in_threadpool(next, updates, None)
        if update is None:
            return
        for kind in update.changed:
            yield _sse(kind, update.data())
            idle = 0.0
        if update.ended:
            return
        await asyncio.sleep(EVENT_POLL_SECONDS)
        idle += EVENT_POLL_SECONDS
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield ": keep-alive\n\n"


def _sse(event: str, data: dict[str, object]) -> str:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def voice_download(
    *, session: Session, settings: Settings, job_id: str, export_format: exports.ExportFormat
) -> FileResponse:
    """A completed job's voice as a zip, with what the export warned in a header."""
    path, exported = exports.export_zip(
        session=session, settings=settings, job_id=job_id, export_format=export_format
    )
    response = zip_download(path, f"{job_id}-{export_format}")
    # ASCII JSON: a header cannot carry the IPA symbols the warnings name.
    response.headers["X-Voicesmith-Warnings"] = json.dumps(exported.warnings)
    return response
