"""The Training tab's dataset actions, authenticated by the session cookie, calling the services."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response

from voicesmith.datasets import editing, service, uploads
from voicesmith.datasets.http import zip_download
from voicesmith.datasets.schemas import BatchResponse, ClipOut, UploadResponse
from voicesmith.deps import EnqueueTranscribe, SessionDep, SettingsDep
from voicesmith.training import service as training_service
from voicesmith.transcripts import service as transcripts
from voicesmith.web.render import fragment, html
from voicesmith.web.session import ActionAdmin

router = APIRouter(prefix="/admin")
UPLOAD_PATH = "/admin/training/upload"
BATCH_PATH = "/admin/training/upload-batch"


@router.post("/training/upload")
def upload(
    audio: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    _admin: ActionAdmin,
    enqueue_asr: EnqueueTranscribe,
    dataset_name: Annotated[str, Form()] = "",
    transcript: Annotated[str, Form()] = "",
) -> UploadResponse:
    """Add Audio File's Upload button: one clip, as POST /api/v1/admin/training/upload."""
    stored = uploads.upload_clip(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        transcript=transcript,
        audio=audio.file,
        filename=audio.filename or "upload",
        enqueue_asr=enqueue_asr,
    )
    return UploadResponse.of(stored)


@router.post("/training/upload-batch")
def upload_batch(
    session: SessionDep,
    settings: SettingsDep,
    _admin: ActionAdmin,
    enqueue_asr: EnqueueTranscribe,
    dataset_name: Annotated[str, Form()] = "",
    audio: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    metadata: Annotated[UploadFile | None, File()] = None,
    archive: Annotated[UploadFile | None, File()] = None,
) -> BatchResponse:
    """The drop zone: a zip, or clips plus metadata, through the bulk import."""
    result = uploads.upload_batch(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        audio=audio,
        metadata=metadata,
        archive=archive,
        enqueue_asr=enqueue_asr,
    )
    return BatchResponse.of(result)


@router.get("/training/datasets")
def datasets_panel(request: Request, session: SessionDep, _admin: ActionAdmin) -> Response:
    """The Datasets panel, re-rendered after an upload."""
    summaries = service.list_datasets(session=session)
    return html(fragment(request, "_datasets.html", {"datasets": summaries}))


@router.get("/datasets/{name}/clips/{clip}/audio", response_class=FileResponse)
def clip_audio(
    name: str, clip: str, session: SessionDep, settings: SettingsDep, _admin: ActionAdmin
) -> FileResponse:
    """A clip's WAV for the clip table's player."""
    path = editing.clip_path(session=session, settings=settings, name=name, clip=clip)
    return FileResponse(path, media_type="audio/wav")


@router.patch("/datasets/{name}/clips/{clip}")
def patch_clip(
    request: Request,
    name: str,
    clip: str,
    session: SessionDep,
    settings: SettingsDep,
    _admin: ActionAdmin,
    transcript: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """Save an edited transcript and answer with the clip's new row."""
    row = editing.set_transcript(
        session=session, settings=settings, name=name, clip=clip, transcript=transcript
    )
    context = {"name": name, "clip": ClipOut.of(row), "saved": True}
    return html(fragment(request, "_clip_row.html", context))


@router.post("/datasets/{name}/clips/{clip}/accept-asr")
def accept_asr(
    request: Request,
    name: str,
    clip: str,
    session: SessionDep,
    settings: SettingsDep,
    _admin: ActionAdmin,
) -> Response:
    """Take what ASR heard as the transcript and answer with the clip's new row."""
    row = transcripts.accept_asr(session=session, settings=settings, name=name, clip=clip)
    context = {"name": name, "clip": ClipOut.of(row), "saved": True}
    return html(fragment(request, "_clip_row.html", context))


@router.delete("/datasets/{name}/clips/{clip}")
def delete_clip(
    name: str, clip: str, session: SessionDep, settings: SettingsDep, _admin: ActionAdmin
) -> Response:
    """Remove a clip; its row disappears."""
    editing.delete_clip(session=session, settings=settings, name=name, clip=clip)
    return html("")


@router.delete("/datasets/{name}")
def delete_dataset(
    name: str, session: SessionDep, settings: SettingsDep, admin: ActionAdmin
) -> Response:
    """Delete a dataset, then go back to the Training tab."""
    training_service.delete_dataset(
        session=session, settings=settings, name=name, actor=admin.username
    )
    return Response(status_code=200, headers={"HX-Redirect": "/admin/training"})


@router.get("/datasets/{name}/export", response_class=FileResponse)
def export(name: str, session: SessionDep, settings: SettingsDep, _admin: ActionAdmin) -> Response:
    """The dataset as an LJSpeech zip."""
    path = service.export_zip(session=session, settings=settings, name=name)
    return zip_download(path, name)
