"""Response bodies for the seed's dataset endpoints."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class UploadResponse(BaseModel):
    """The seed's upload answer, plus the clip's length."""

    status: Literal["stored"] = "stored"
    dataset: str
    wav_filename: str
    metadata_path: str
    duration_seconds: float


class DatasetOut(BaseModel):
    """One dataset in the seed's list shape, plus its total length."""

    name: str
    audio_count: int
    created_at: datetime
    total_seconds: float


class DatasetList(BaseModel):
    """The seed's dataset list answer."""

    status: Literal["ok"] = "ok"
    datasets: list[DatasetOut]


class RejectedFile(BaseModel):
    """A file a bulk import did not store, and why."""

    file: str
    detail: str


class BatchResponse(BaseModel):
    """What a bulk import stored and refused."""

    status: Literal["stored"] = "stored"
    dataset: str
    stored: int
    audio_count: int
    rejected: list[RejectedFile]
