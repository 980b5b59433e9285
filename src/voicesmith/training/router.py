"""Training job routes: start, list, inspect, follow, cancel, resume, delete."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse

from voicesmith.deps import (
    CurrentAdmin,
    EnqueueEstimate,
    EnqueueTraining,
    SessionDep,
    SessionsDep,
    SettingsDep,
    require_admin,
)
from voicesmith.training import checkpoints, estimates, exports, follow, service
from voicesmith.training.http import event_response, voice_download
from voicesmith.training.models import Job
from voicesmith.training.schemas import (
    CheckpointList,
    EstimateOut,
    JobList,
    JobOut,
    StartRequest,
    StartResponse,
)

router = APIRouter(
    prefix="/api/v1/admin/training", tags=["training"], dependencies=[Depends(require_admin)]
)


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
        attempt=job.attempt,
        warnings=job.warnings,
        worker_id=job.worker_id,
        gpus=job.gpus,
        can_resume=service.can_resume(job),
        consent_override_reason=job.consent_override_reason,
        consent_override_by=job.consent_override_by,
    )


@router.post("/start")
def start(
    body: StartRequest,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueTraining,
    admin: CurrentAdmin,
) -> StartResponse:
    """Validate a dataset and queue a fine-tuning job for it; its voice belongs to the admin."""
    job = service.submit(
        session=session,
        settings=settings,
        request=body.model_dump(exclude_none=True),
        owner=admin.username,
    )
    enqueue(job.id)
    return StartResponse(job_id=job.id, output_dir=job.output_dir, warnings=job.warnings or [])


@router.post(
    "/estimate",
    responses={202: {"model": EstimateOut, "description": "queued or running: poll its URL"}},
)
def estimate(
    body: StartRequest,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueEstimate,
    response: Response,
) -> EstimateOut:
    """A dry run of /start's body: time and memory measured by a worker before any job runs."""
    found = estimates.request_estimate(
        session=session,
        settings=settings,
        request=body.model_dump(exclude_none=True),
        enqueue=enqueue,
    )
    return estimate_out(found, response)


@router.get("/estimate/{estimate_id}", responses={202: {"model": EstimateOut}})
def get_estimate(estimate_id: str, settings: SettingsDep, response: Response) -> EstimateOut:
    """A dry run by id: 200 once measured (or failed), 202 while queued or running."""
    return estimate_out(
        estimates.get_estimate(settings=settings, estimate_id=estimate_id), response
    )


def estimate_out(found: dict, response: Response) -> EstimateOut:
    """The answer, 202 while the worker has not measured it yet."""
    if found["status"] in estimates.WAITING:
        response.status_code = 202
    return EstimateOut.model_validate(found)


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
    return service.log_tail(session=session, job_id=job_id, lines=tail)


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, session: SessionDep) -> JobOut:
    """Cancel a pending job, or stop a training one within seconds."""
    return job_out(service.cancel(session=session, job_id=job_id))


@router.post("/jobs/{job_id}/resume")
def resume(job_id: str, session: SessionDep, enqueue: EnqueueTraining) -> JobOut:
    """Continue a failed or cancelled job from its newest checkpoint."""
    job = service.resume(session=session, job_id=job_id)
    enqueue(job.id)
    return job_out(job)


@router.delete("/jobs/{job_id}")
def delete(job_id: str, session: SessionDep, admin: CurrentAdmin) -> dict[str, str]:
    """Delete a job that is not running, and its files."""
    service.delete(session=session, job_id=job_id, actor=admin.username)
    return {"status": "deleted", "job_id": job_id}


@router.get("/jobs/{job_id}/export", response_class=FileResponse)
def export(
    job_id: str,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[exports.ExportFormat, Query()],  # noqa: A002 - the documented parameter
) -> FileResponse:
    """A completed job's voice as a zip: a Piper voice (NAME.onnx + .json) or a Coqui bundle."""
    return voice_download(session=session, settings=settings, job_id=job_id, export_format=format)


def checkpoint_list(job_id: str, found: dict) -> CheckpointList:
    """The service's record with each sample as the URL that serves it."""
    return CheckpointList.of(found, f"{router.prefix}/jobs/{job_id}/samples")


@router.get("/jobs/{job_id}/checkpoints")
def list_checkpoints(job_id: str, session: SessionDep) -> CheckpointList:
    """The job's scored checkpoints and the promoted step."""
    return checkpoint_list(job_id, checkpoints.list_checkpoints(session=session, job_id=job_id))


@router.post("/jobs/{job_id}/checkpoints/{step}/promote")
def promote(job_id: str, step: int, session: SessionDep, admin: CurrentAdmin) -> CheckpointList:
    """Make a kept checkpoint the voice (re-exported to ONNX); answers the new state."""
    found = checkpoints.promote(session=session, job_id=job_id, step=step, actor=admin.username)
    return checkpoint_list(job_id, found)


@router.get("/jobs/{job_id}/samples/{name}", response_class=FileResponse)
def sample(job_id: str, name: str, session: SessionDep) -> FileResponse:
    """One evaluation sample's WAV."""
    path = checkpoints.sample_file(session=session, job_id=job_id, name=name)
    return FileResponse(path, media_type="audio/wav")


@router.get("/jobs/{job_id}/events")
def events(job_id: str, request: Request, sessions: SessionsDep) -> StreamingResponse:
    """Server-Sent Events: `progress` and `status` events until the job ends."""
    # No request-scoped session here: it would stay open for as long as the stream runs.
    return event_response(request, follow.job_updates(sessions=sessions, job_id=job_id))


# Deleting a dataset must ask whether a job trains on it, which only training knows, so the
# route lives here, under the same path as the other dataset routes.
@router.delete("/datasets/{name}", tags=["datasets"])
def delete_dataset(
    name: str, session: SessionDep, settings: SettingsDep, admin: CurrentAdmin
) -> dict:
    """Delete a dataset and its files; refused while a job uses it."""
    service.delete_dataset(session=session, settings=settings, name=name, actor=admin.username)
    return {"status": "deleted", "dataset": name}
