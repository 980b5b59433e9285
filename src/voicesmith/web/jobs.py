"""The Training tab's job actions and the job page's live data, authenticated by the cookie."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import ValidationError

from voicesmith.deps import EnqueueTraining, SessionDep, SessionsDep, SettingsDep
from voicesmith.errors import BadInput
from voicesmith.synthesis import service as synthesis_service
from voicesmith.training import checkpoints, exports, follow, service
from voicesmith.training.http import event_response, voice_download
from voicesmith.training.schemas import CheckpointList, StartRequest
from voicesmith.web import runs
from voicesmith.web.render import fragment, html
from voicesmith.web.session import ActionAdmin, StreamAdmin

router = APIRouter(prefix="/admin")
LOG_TAIL_LINES = 200
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def start_form(
    dataset_name: Annotated[str, Form(max_length=256)] = "",
    epochs: Annotated[str, Form(max_length=32)] = "10",
    batch_size: Annotated[str, Form(max_length=32)] = "4",
    base_model: Annotated[str, Form(max_length=2048)] = "",
    learning_rate: Annotated[str, Form(max_length=32)] = "",
    epochs_auto: Annotated[str, Form(max_length=8)] = "",
    consent_override_reason: Annotated[str, Form(max_length=2000)] = "",
) -> dict[str, Any]:
    """The Start Training form's fields checked as the JSON API checks its body."""
    if not dataset_name:
        raise BadInput("pick a dataset to train; upload clips to one first")
    # The auto checkbox disables the number box, so the browser sends no epochs with it.
    fields = {"dataset_name": dataset_name, "epochs": "auto" if epochs_auto else epochs}
    optional = {
        "base_model": base_model,
        "learning_rate": learning_rate,
        "consent_override_reason": consent_override_reason,
    }
    given = {k: v.strip() for k, v in optional.items() if v.strip()}
    try:
        body = {**fields, "batch_size": batch_size, **given}
        return StartRequest.model_validate(body).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


# Start and Estimate post the same form.
StartForm = Annotated[dict[str, Any], Depends(start_form)]


@router.post("/training/start")
def start(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueTraining,
    admin: ActionAdmin,
    body: StartForm,
) -> Response:
    """Start Training: queue a job and answer with the refreshed Training Jobs panel."""
    job = service.submit(session=session, settings=settings, request=body, owner=admin.username)
    # Rendered before the job is queued, so the panel shows it as it is now: Pending.
    context = {
        "jobs": service.list_jobs(session=session),
        "warnings": job.warnings or [],
        "review": job.dataset_name,
    }
    content = fragment(request, "_jobs.html", context)
    enqueue(job.id)
    return html(content)


@router.get("/training/jobs")
def jobs_panel(request: Request, session: SessionDep, _admin: ActionAdmin) -> Response:
    """The Training Jobs panel."""
    jobs = service.list_jobs(session=session)
    return html(fragment(request, "_jobs.html", {"jobs": jobs, "warnings": []}))


@router.get("/jobs/{job_id}/events")
def events(
    job_id: str, request: Request, sessions: SessionsDep, _admin: StreamAdmin
) -> StreamingResponse:
    """The API's Server-Sent Events stream, for an EventSource that sends the cookie."""
    return event_response(request, follow.job_updates(sessions=sessions, job_id=job_id))


@router.get("/jobs/{job_id}/metrics")
def metrics(
    job_id: str,
    session: SessionDep,
    _admin: ActionAdmin,
    after: Annotated[int, Query(ge=-1)] = -1,
) -> dict[str, Any]:
    """Losses by step after a given step, for the loss chart."""
    job = service.get_job(session=session, job_id=job_id)
    return {"job_id": job_id, "points": runs.metrics(job, after=after)}


@router.get("/jobs/{job_id}/log", response_class=PlainTextResponse)
def log(job_id: str, session: SessionDep, _admin: ActionAdmin) -> str:
    """The log's tail, without the trainer's terminal colour codes."""
    tail = service.log_tail(session=session, job_id=job_id, lines=LOG_TAIL_LINES)
    return ANSI_RE.sub("", tail)


@router.get("/jobs/{job_id}/samples")
def samples(job_id: str, session: SessionDep, _admin: ActionAdmin) -> dict[str, Any]:
    """The samples written at each evaluation."""
    job = service.get_job(session=session, job_id=job_id)
    return {"job_id": job_id, "samples": runs.samples(job)}


@router.get("/jobs/{job_id}/samples/{name}", response_class=FileResponse)
def sample(job_id: str, name: str, session: SessionDep, _admin: ActionAdmin) -> FileResponse:
    """One sample's WAV."""
    job = service.get_job(session=session, job_id=job_id)
    return FileResponse(runs.sample_path(job, name), media_type="audio/wav")


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, session: SessionDep, _admin: ActionAdmin) -> Response:
    """Cancel a job, then show the page again."""
    service.cancel(session=session, job_id=job_id)
    return Response(headers={"HX-Refresh": "true"})


@router.post("/jobs/{job_id}/resume")
def resume(
    job_id: str, session: SessionDep, enqueue: EnqueueTraining, _admin: ActionAdmin
) -> Response:
    """Resume a job from its newest checkpoint, then show the page again."""
    job = service.resume(session=session, job_id=job_id)
    enqueue(job.id)
    return Response(headers={"HX-Refresh": "true"})


@router.post("/jobs/{job_id}/alias")
def name_voice(
    request: Request,
    job_id: str,
    session: SessionDep,
    _admin: ActionAdmin,
    alias: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Name this voice: an alias for the job, confirmed under the form."""
    name = alias.strip()
    synthesis_service.set_alias(session=session, alias=name, job_id=job_id, checkpoint=None)
    aliases = synthesis_service.aliases_of(session=session, job_id=job_id)
    context = {"named": name, "aliases": aliases}
    return html(fragment(request, "_job_names.html", context))


@router.get("/jobs/{job_id}/checkpoints")
def checkpoints_table(job_id: str, session: SessionDep, _admin: ActionAdmin) -> CheckpointList:
    """The job page's checkpoint table and score chart."""
    found = checkpoints.list_checkpoints(session=session, job_id=job_id)
    return CheckpointList.of(found, f"/admin/jobs/{job_id}/samples")


@router.post("/jobs/{job_id}/checkpoints/{step}/promote")
def promote(job_id: str, step: int, session: SessionDep, admin: ActionAdmin) -> CheckpointList:
    """Use this checkpoint: it becomes the voice; answers the table again."""
    found = checkpoints.promote(session=session, job_id=job_id, step=step, actor=admin.username)
    return CheckpointList.of(found, f"/admin/jobs/{job_id}/samples")


@router.get("/jobs/{job_id}/export", response_class=FileResponse)
def export(
    job_id: str,
    session: SessionDep,
    settings: SettingsDep,
    _admin: ActionAdmin,
    format: Annotated[exports.ExportFormat, Query()],  # noqa: A002 - as the API names it
) -> FileResponse:
    """Download for Piper / Home Assistant, or for Coqui TTS, as the API's export."""
    return voice_download(session=session, settings=settings, job_id=job_id, export_format=format)


@router.delete("/jobs/{job_id}")
def delete(job_id: str, session: SessionDep, admin: ActionAdmin) -> Response:
    """Delete a job, then go back to the Training tab."""
    service.delete(session=session, job_id=job_id, actor=admin.username)
    return Response(headers={"HX-Redirect": "/admin/training"})
