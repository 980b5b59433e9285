"""The seed's dataset routes: single-clip upload and the dataset list."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from voicesmith.config import Settings
from voicesmith.datasets import bulk, editing, quality, rebuild, report, service, staging
from voicesmith.datasets.schemas import (
    BatchResponse,
    CleanupSettings,
    ClipOut,
    ClipPage,
    DatasetList,
    DatasetOut,
    RebuildResponse,
    RejectedFile,
    TranscriptPatch,
    UploadResponse,
)
from voicesmith.deps import SessionDep, SettingsDep, require_admin
from voicesmith.errors import BadInput
from voicesmith.training import service as training_service

router = APIRouter(
    prefix="/api/v1/admin/training", tags=["datasets"], dependencies=[Depends(require_admin)]
)


@router.post("/upload")
def upload(
    audio: UploadFile,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    # Defaults of "" let the service explain what is wrong instead of a bare "field required".
    dataset_name: Annotated[str, Form(description="letters, digits, '_' and '-'")] = "",
    transcript: Annotated[
        str, Form(description="what is said in the clip, one line; empty: ASR transcribes it")
    ] = "",
) -> UploadResponse:
    """Store one clip as 22050 Hz mono WAV and add it to the dataset's metadata.csv."""
    return store_one(request, session, settings, audio, dataset_name, transcript)


def store_one(
    request: Request,
    session: Session,
    settings: Settings,
    audio: UploadFile,
    dataset_name: str,
    transcript: str,
) -> UploadResponse:
    """Store one uploaded clip and queue its ASR; the web page's Upload button uses it too."""
    stored = service.store_upload(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        transcript=transcript,
        audio=audio.file,
        filename=audio.filename or "upload",
    )
    request.app.state.enqueue_asr.transcribe([stored.clip_id])  # transcribe or check it
    return UploadResponse(
        dataset=stored.dataset,
        wav_filename=stored.wav_filename,
        metadata_path=str(stored.metadata_path),
        duration_seconds=round(stored.duration_seconds, 3),
        clip_status=stored.status,
    )


@router.post("/upload-batch")
def upload_batch(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    dataset_name: Annotated[str, Form()] = "",
    audio: Annotated[list[UploadFile], File(description="clips; with a metadata part")] = [],  # noqa: B006
    metadata: Annotated[
        UploadFile | None, File(description="file|transcript lines; unlisted clips go to ASR")
    ] = None,
    archive: Annotated[UploadFile | None, File(description="a zip of clips + metadata.csv")] = None,
) -> BatchResponse:
    """Store many clips at once, from a zip or from files plus a metadata file."""
    return store_batch(request, session, settings, dataset_name, audio, metadata, archive)


def store_batch(
    request: Request,
    session: Session,
    settings: Settings,
    dataset_name: str,
    audio: list[UploadFile],
    metadata: UploadFile | None,
    archive: UploadFile | None,
) -> BatchResponse:
    """Run a bulk import and queue ASR for its clips; the web page's drop zone uses it too."""
    if (archive is None) == (not audio):
        raise BadInput("send either one zip ('archive') or audio files with a metadata part")
    with staging.unpacked(settings, archive=archive, audio=audio) as files:
        result = bulk.import_batch(
            session=session,
            settings=settings,
            dataset_name=dataset_name,
            files=files,
            metadata=metadata.file.read() if metadata else None,
        )
    request.app.state.enqueue_asr.transcribe(result.clip_ids)  # transcribe or check them
    return BatchResponse(
        dataset=result.dataset,
        stored=result.stored,
        audio_count=result.audio_count,
        rejected=[RejectedFile(file=r.file, detail=r.detail) for r in result.rejected],
        pending=result.pending,
    )


@router.get("/datasets")
def list_datasets(session: SessionDep) -> DatasetList:
    """Every dataset with its clip count."""
    summaries = service.list_datasets(session=session)
    return DatasetList(datasets=[DatasetOut(**asdict(s)) for s in summaries])


@router.get("/datasets/{name}/export", response_class=FileResponse)
def export(name: str, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The dataset as an LJSpeech zip (metadata.csv + wavs/), for any trainer."""
    return export_response(session, settings, name)


def export_response(session: Session, settings: Settings, name: str) -> FileResponse:
    """A dataset's zip as a download that deletes its temporary file once sent."""
    path = service.export_zip(session=session, settings=settings, name=name)
    session.commit()
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"{name}.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/datasets/{name}")
def dataset_detail(
    name: str,
    session: SessionDep,
    # Bounded, because SQLite's integers stop at 2**63 and a bigger OFFSET is a 500.
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ClipPage:
    """One page of a dataset's clips."""
    total, clips = editing.clip_page(session=session, name=name, offset=offset, limit=limit)
    return ClipPage(
        dataset=name,
        audio_count=total,
        offset=offset,
        limit=limit,
        clips=[ClipOut.of(c) for c in clips],
    )


@router.get("/datasets/{name}/report")
def dataset_report(name: str, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """The stored quality report: totals, warnings, and each clip's metrics and flags."""
    dataset = editing.dataset_or_404(session=session, name=name)
    return report.stored(session=session, settings=settings, dataset=dataset)


@router.put("/datasets/{name}/cleanup")
def set_cleanup(
    name: str, body: CleanupSettings, session: SessionDep, settings: SettingsDep
) -> RebuildResponse:
    """Change how the dataset is cleaned and rebuild its WAVs from the kept originals."""
    cleanup = quality.Cleanup(**body.model_dump())
    result = rebuild.set_cleanup(session=session, settings=settings, name=name, cleanup=cleanup)
    return RebuildResponse(
        dataset=result.dataset,
        cleanup=CleanupSettings(**vars(result.cleanup)),
        rebuilt=result.rebuilt,
        kept=[RejectedFile(file=f, detail=d) for f, d in result.kept.items()],
    )


@router.get("/datasets/{name}/clips/{clip}/audio", response_class=FileResponse)
def clip_audio(name: str, clip: str, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """A clip's WAV, for an audio player."""
    path = editing.clip_path(session=session, settings=settings, name=name, clip=clip)
    return FileResponse(path, media_type="audio/wav")


@router.patch("/datasets/{name}/clips/{clip}")
def patch_clip(
    name: str, clip: str, body: TranscriptPatch, session: SessionDep, settings: SettingsDep
) -> ClipOut:
    """Correct a clip's transcript."""
    row = editing.set_transcript(
        session=session, settings=settings, name=name, clip=clip, transcript=body.transcript
    )
    return ClipOut.of(row)


@router.delete("/datasets/{name}/clips/{clip}")
def delete_clip(name: str, clip: str, session: SessionDep, settings: SettingsDep) -> dict:
    """Remove a clip from the dataset."""
    editing.delete_clip(session=session, settings=settings, name=name, clip=clip)
    return {"status": "deleted", "dataset": name, "clip": clip}


@router.delete("/datasets/{name}")
def delete_dataset(name: str, session: SessionDep, settings: SettingsDep) -> dict:
    """Delete a dataset and its files; refused while a job uses it."""
    training_service.delete_dataset(session=session, settings=settings, name=name)
    return {"status": "deleted", "dataset": name}
