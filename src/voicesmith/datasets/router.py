"""Dataset routes: uploads, the list, export, the quality report, clean-up and clip edits."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse

from voicesmith.datasets import editing, quality, rebuild, service, uploads
from voicesmith.datasets.http import zip_download
from voicesmith.datasets.layout import ExportLayout
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
from voicesmith.deps import EnqueueTranscribe, SessionDep, SettingsDep, require_admin

router = APIRouter(
    prefix="/api/v1/admin/training", tags=["datasets"], dependencies=[Depends(require_admin)]
)


@router.post("/upload")
def upload(
    audio: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    enqueue_asr: EnqueueTranscribe,
    # Defaults of "" let the service explain what is wrong instead of a bare "field required".
    dataset_name: Annotated[str, Form(description="letters, digits, '_' and '-'")] = "",
    transcript: Annotated[
        str, Form(description="what is said in the clip, one line; empty: ASR transcribes it")
    ] = "",
) -> UploadResponse:
    """Store one clip as 22050 Hz mono WAV and add it to the dataset's metadata.csv."""
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


@router.post("/upload-batch")
def upload_batch(
    session: SessionDep,
    settings: SettingsDep,
    enqueue_asr: EnqueueTranscribe,
    dataset_name: Annotated[str, Form()] = "",
    audio: Annotated[list[UploadFile], File(description="clips; with a metadata part")] = [],  # noqa: B006
    metadata: Annotated[
        UploadFile | None, File(description="file|transcript lines; unlisted clips go to ASR")
    ] = None,
    archive: Annotated[UploadFile | None, File(description="a zip of clips + metadata.csv")] = None,
) -> BatchResponse:
    """Store many clips at once, from a zip or from files plus a metadata file."""
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


@router.get("/datasets")
def list_datasets(session: SessionDep) -> DatasetList:
    """Every dataset with its clip count."""
    summaries = service.list_datasets(session=session)
    return DatasetList(datasets=[DatasetOut(**asdict(s)) for s in summaries])


@router.get("/datasets/{name}/export", response_class=FileResponse)
def export(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    layout: Annotated[ExportLayout, Query()] = "ljspeech",
) -> FileResponse:
    """The dataset as a zip (metadata.csv + wavs/), laid out for LJSpeech, Piper or the seed."""
    path = service.export_zip(session=session, settings=settings, name=name, export_layout=layout)
    return zip_download(path, name)


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
    return editing.quality_report(session=session, settings=settings, name=name)


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
