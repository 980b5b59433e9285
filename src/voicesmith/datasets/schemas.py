"""Response bodies for the seed's dataset endpoints."""

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from voicesmith.datasets.models import Clip
from voicesmith.datasets.report import METRICS


class UploadResponse(BaseModel):
    """The seed's upload answer, plus the clip's length."""

    status: Literal["stored"] = "stored"
    dataset: str
    wav_filename: str
    metadata_path: str
    duration_seconds: float


class DatasetOut(BaseModel):
    """One dataset in the seed's list shape, plus its length, report counts and clean-up."""

    name: str
    audio_count: int
    created_at: datetime
    total_seconds: float
    warning_count: int
    flagged_clips: int
    trim_silence: bool
    normalize_loudness: bool
    target_lufs: float


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


class ClipOut(BaseModel):
    """One clip as the dataset page shows it."""

    file: str
    transcript: str
    duration_seconds: float
    original_filename: str
    original_format: str
    original_sample_rate: int
    original_channels: int
    peak_dbfs: float | None
    loudness_lufs: float | None
    clipped_ratio: float | None
    leading_silence: float | None
    trailing_silence: float | None
    snr_db: float | None
    flags: list[str]

    @classmethod
    def of(cls, clip: "Clip") -> "ClipOut":
        """The view of a clip row."""
        return cls(
            file=clip.wav_filename,
            transcript=clip.transcript,
            duration_seconds=round(clip.duration_seconds, 3),
            original_filename=clip.original_filename,
            original_format=clip.original_format,
            original_sample_rate=clip.original_sample_rate,
            original_channels=clip.original_channels,
            **{key: getattr(clip, key) for key in METRICS},
            flags=json.loads(clip.flags or "[]"),
        )


class ClipPage(BaseModel):
    """A page of a dataset's clips."""

    status: Literal["ok"] = "ok"
    dataset: str
    audio_count: int
    offset: int
    limit: int
    clips: list[ClipOut]


class TranscriptPatch(BaseModel):
    """A corrected transcript."""

    transcript: str = Field(max_length=100_000)


class CleanupSettings(BaseModel):
    """How a dataset cleans its clips at ingest."""

    trim_silence: bool = True
    normalize_loudness: bool = True
    target_lufs: float = Field(default=-23.0, ge=-70.0, le=-5.0)


class RebuildResponse(BaseModel):
    """A dataset's new clean-up settings and what the rebuild did."""

    status: Literal["rebuilt"] = "rebuilt"
    dataset: str
    cleanup: CleanupSettings
    rebuilt: int
    kept: list[RejectedFile]
