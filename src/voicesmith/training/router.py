"""Training job routes: start, list, inspect, follow, cancel, resume, delete."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from voicesmith.db import session_scope
from voicesmith.deps import SessionDep, SettingsDep, require_admin
from voicesmith.errors import NotFound
from voicesmith.training import service
from voicesmith.training.models import ACTIVE, Job
from voicesmith.training.schemas import JobList, JobOut, StartRequest, StartResponse

router = APIRouter(
    prefix="/api/v1/admin/training", tags=["training"], dependencies=[Depends(require_admin)]
)
EVENT_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0


def job_out(job: Job) -> JobOut:
    """A job row as the API shows it."""
    return JobOut(
        job_id=job.id,
        created_at=job.created_at,
        status=job.status,
        has_model=service.has_model(job),
        log_file=str(service.log_path(job)),
        dataset_name=job.dataset_name,
        progress=job.progress,
        error=job.error,
        params=job.params,
        started_at=job.started_at,
        finished_at=job.finished_at,
        device=job.device,
        attempts=job.attempts,
        warnings=job.warnings,
        worker_id=job.worker_id,
        gpus=job.gpus,
    )


@router.post("/start")
def start(
    body: StartRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> StartResponse:
    """Validate a dataset and queue a fine-tuning job for it."""
    job = service.submit(
        session=session, settings=settings, request=body.model_dump(exclude_none=True)
    )
    request.app.state.enqueue_training(job.id)
    return StartResponse(job_id=job.id, output_dir=job.output_dir, warnings=job.warnings or [])


@router.get("/jobs")
def list_jobs(session: SessionDep) -> JobList:
    """Every job, newest first, with progress."""
    return JobList(jobs=[job_out(j) for j in service.list_jobs(session=session)])


@router.get("/jobs/{job_id}")
def get_job(job_id: str, session: SessionDep) -> JobOut:
    """One job with its progress and error."""
    return job_out(service.get_job(session=session, job_id=job_id))


@router.get("/jobs/{job_id}/log", response_class=PlainTextResponse)
def get_log(
    job_id: str, session: SessionDep, tail: Annotated[int, Query(ge=1, le=10_000)] = 200
) -> str:
    """The last lines of the job's train.log."""
    return service.log_tail(service.get_job(session=session, job_id=job_id), tail)


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, session: SessionDep) -> JobOut:
    """Cancel a pending job, or stop a training one within seconds."""
    return job_out(service.cancel(session=session, job_id=job_id))


@router.post("/jobs/{job_id}/resume")
def resume(job_id: str, request: Request, session: SessionDep) -> JobOut:
    """Continue a failed or cancelled job from its newest checkpoint."""
    job = service.resume(session=session, job_id=job_id)
    request.app.state.enqueue_training(job.id)
    return job_out(job)


@router.delete("/jobs/{job_id}")
def delete(job_id: str, session: SessionDep) -> dict[str, str]:
    """Delete a job that is not running, and its files."""
    service.delete(session=session, job_id=job_id)
    return {"status": "deleted", "job_id": job_id}


@router.get("/jobs/{job_id}/events")
def events(job_id: str, request: Request) -> StreamingResponse:
    """Server-Sent Events: `progress` and `status` events until the job ends."""
    # No request-scoped session here: it would stay open for as long as the stream runs.
    if _snapshot(request, job_id) is None:
        raise NotFound(f"job '{job_id}' does not exist")
    stream = _event_stream(request, job_id)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def _event_stream(request: Request, job_id: str) -> AsyncIterator[str]:
    """Poll the job row and emit what changed."""
    last: dict[str, object] = {}
    idle = 0.0
    while not await request.is_disconnected():
        snapshot = await run_in_threadpool(_snapshot, request, job_id)
        if snapshot is None:
            yield _sse("status", {"job_id": job_id, "status": "deleted"})
            return
        for kind in ("status", "progress"):
            if snapshot[kind] != last.get(kind):
                last[kind] = snapshot[kind]
                yield _sse(kind, {"job_id": job_id, **snapshot})
                idle = 0.0
        if snapshot["status"] not in ACTIVE:
            return
        await asyncio.sleep(EVENT_POLL_SECONDS)
        idle += EVENT_POLL_SECONDS
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield ": keep-alive\n\n"


def _snapshot(request: Request, job_id: str) -> dict[str, object] | None:
    """The parts of a job that events report."""
    with session_scope(request.app.state.sessionmaker) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        return {"status": job.status, "progress": job.progress, "error": job.error}


def _sse(event: str, data: dict[str, object]) -> str:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"
