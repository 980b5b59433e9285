"""The seed's dataset routes: single-clip upload and the dataset list."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Form, UploadFile

from voicesmith.datasets import service
from voicesmith.datasets.schemas import DatasetList, DatasetOut, UploadResponse
from voicesmith.deps import SessionDep, SettingsDep, require_admin

router = APIRouter(
    prefix="/api/v1/admin/training", tags=["datasets"], dependencies=[Depends(require_admin)]
)


@router.post("/upload")
def upload(
    audio: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    # Defaults of "" let the service explain what is wrong instead of a bare "field required".
    dataset_name: Annotated[str, Form(description="letters, digits, '_' and '-'")] = "",
    transcript: Annotated[str, Form(description="what is said in the clip, one line")] = "",
) -> UploadResponse:
    """Store one clip as 22050 Hz mono WAV and add it to the dataset's metadata.csv."""
    stored = service.store_upload(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        transcript=transcript,
        audio=audio.file,
        filename=audio.filename or "upload",
    )
    return UploadResponse(
        dataset=stored.dataset,
        wav_filename=stored.wav_filename,
        metadata_path=str(stored.metadata_path),
        duration_seconds=round(stored.duration_seconds, 3),
    )


@router.get("/datasets")
def list_datasets(session: SessionDep) -> DatasetList:
    """Every dataset with its clip count."""
    summaries = service.list_datasets(session=session)
    return DatasetList(datasets=[DatasetOut(**asdict(s)) for s in summaries])
