"""Response bodies for the seed's dataset endpoints."""

import json
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from voicesmith.datasets.models import Clip
from voicesmith.datasets.report import METRICS

if TYPE_CHECKING:
    from voicesmith.datasets.bulk import BatchResult
    from voicesmith.datasets.uploads import StoredClip

ASR_FIELDS = ("status", "transcript_source", "asr_text", "asr_confidence", "cer", "asr_detail")


class UploadResponse(BaseModel):
    """The seed's upload answer, plus the clip's length."""

    status: Literal["stored"] = "stored"
    dataset: str
    wav_filename: str
    metadata_path: str
    duration_seconds: float
    # "transcribing" when sent without a transcript: ASR fills it in, in the background.
    clip_status: str = "ready"

    @classmethod
    def of(cls, stored: "StoredClip") -> "UploadResponse":
        """Where an uploaded clip landed, as the API shows it."""
        return cls(
            dataset=stored.dataset,
            wav_filename=stored.wav_filename,
            metadata_path=str(stored.metadata_path),
            duration_seconds=round(stored.duration_seconds, 3),
            clip_status=stored.status,
        )


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
    pending_clips: int = 0
    failed_clips: int = 0


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
    pending: int = 0

    @classmethod
    def of(cls, result: "BatchResult") -> "BatchResponse":
        """A bulk import's outcome, as the API shows it."""
        return cls(
            dataset=result.dataset,
            stored=result.stored,
            audio_count=result.audio_count,
            rejected=[RejectedFile(file=r.file, detail=r.detail) for r in result.rejected],
            pending=result.pending,
        )


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
    status: str = "ready"
    transcript_source: str = "user"
    asr_text: str | None = None
    asr_confidence: float | None = None
    cer: float | None = None
    asr_detail: str | None = None

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
            **{key: getattr(clip, key) for key in ASR_FIELDS},
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

    # Strict: a 0 or "no" that pydantic would read as false is more likely a mistake.
    trim_silence: bool = Field(default=True, strict=True)
    normalize_loudness: bool = Field(default=True, strict=True)
    target_lufs: float = Field(default=-23.0, ge=-70.0, le=-5.0)


class RebuildResponse(BaseModel):
    """A dataset's new clean-up settings and what the rebuild did."""

    status: Literal["rebuilt"] = "rebuilt"
    dataset: str
    cleanup: CleanupSettings
    rebuilt: int
    kept: list[RejectedFile]
