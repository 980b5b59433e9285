"""Routes for ASR: long-recording imports and accepting what ASR heard as a transcript."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, UploadFile

from voicesmith.datasets.schemas import ClipOut
from voicesmith.deps import EnqueueLongImport, SessionDep, SettingsDep, require_admin
from voicesmith.transcripts import longform, service
from voicesmith.transcripts.schemas import LongImportAccepted, LongImportOut

PREFIX = "/api/v1/admin/training"
LONG_UPLOAD_PATH = f"{PREFIX}/upload-long"
router = APIRouter(prefix=PREFIX, tags=["transcripts"], dependencies=[Depends(require_admin)])


@router.post("/upload-long", status_code=202)
def upload_long(
    audio: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueLongImport,
    dataset_name: Annotated[str, Form(description="letters, digits, '_' and '-'")] = "",
    transcript: Annotated[
        str, Form(description="optional: the whole recording's text; clips take their part")
    ] = "",
) -> LongImportAccepted:
    """Keep a long recording and split it into transcribed clips in the background."""
    row = longform.queue_import(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        audio=audio.file,
        filename=audio.filename or "recording",
        transcript=transcript,
        enqueue=enqueue,
    )
    return LongImportAccepted(
        import_id=row.id,
        dataset=row.dataset_name,
        duration_seconds=row.duration_seconds,
        progress_url=f"{PREFIX}/long-imports/{row.id}",
    )


@router.get("/long-imports/{import_id}")
def long_import(
    import_id: Annotated[int, Path(ge=1, le=2**62)], session: SessionDep
) -> LongImportOut:
    """Where a long import stands."""
    return LongImportOut.of(longform.get_import(session=session, import_id=import_id))


@router.post("/datasets/{name}/clips/{clip}/accept-asr")
def accept_asr(name: str, clip: str, session: SessionDep, settings: SettingsDep) -> ClipOut:
    """Replace a clip's transcript with what ASR heard."""
    row = service.accept_asr(session=session, settings=settings, name=name, clip=clip)
    return ClipOut.of(row)
