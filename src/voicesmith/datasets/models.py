"""Datasets and their clips; the rows are the truth metadata.csv is rendered from."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voicesmith.db import Base, UTCDateTime, utcnow


class Dataset(Base):
    """A named LJSpeech dataset under <data_dir>/data/<name>."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    trim_silence: Mapped[bool] = mapped_column(Boolean, server_default=true())
    normalize_loudness: Mapped[bool] = mapped_column(Boolean, server_default=true())
    target_lufs: Mapped[float] = mapped_column(Float, server_default="-23.0")
    # The quality report as JSON, rebuilt under the dataset lock whenever the clips change.
    report: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The unit mean of the ready clips' speaker embeddings, outliers left out (float32 bytes);
    # rebuilt with the report. Null until enough clips are embedded.
    speaker_centroid: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    clips: Mapped[list["Clip"]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="Clip.id"
    )


class ClipStatus(StrEnum):
    """Whether a clip's transcript is ready for metadata.csv and training."""

    READY = "ready"
    TRANSCRIBING = "transcribing"
    FAILED = "failed"


class Clip(Base):
    """One converted 22050 Hz mono WAV and its transcript."""

    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("dataset_id", "wav_filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    wav_filename: Mapped[str] = mapped_column(String(128))
    transcript: Mapped[str] = mapped_column(Text)
    duration_seconds: Mapped[float] = mapped_column(Float)
    original_filename: Mapped[str] = mapped_column(String(255))
    original_format: Mapped[str] = mapped_column(String(64))
    original_codec: Mapped[str] = mapped_column(String(64))
    original_sample_rate: Mapped[int] = mapped_column(Integer)
    original_channels: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # The upload as it came, under originals/, so a dataset can be rebuilt with new clean-up.
    original_file: Mapped[str | None] = mapped_column(String(160), nullable=True)
    # Measured on the decoded upload before clean-up; null for clips stored before the report.
    peak_dbfs: Mapped[float | None] = mapped_column(Float, nullable=True)
    loudness_lufs: Mapped[float | None] = mapped_column(Float, nullable=True)
    clipped_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    leading_silence: Mapped[float | None] = mapped_column(Float, nullable=True)
    trailing_silence: Mapped[float | None] = mapped_column(Float, nullable=True)
    snr_db: Mapped[float | None] = mapped_column(Float, nullable=True)
    speech_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[str] = mapped_column(Text, server_default="[]")
    # ready, or transcribing (waiting for ASR), or failed (asr_detail says why).
    status: Mapped[str] = mapped_column(
        String(16), default=ClipStatus.READY.value, server_default="ready", index=True
    )
    transcript_source: Mapped[str] = mapped_column(String(8), default="user", server_default="user")
    # What ASR heard, also for user transcripts, and the CER between the two (null until heard).
    asr_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    asr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    cer: Mapped[float | None] = mapped_column(Float, nullable=True)
    asr_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A person accepted the transcript on the Review page: ASR's doubt no longer flags it.
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The clip's speaker embedding (engines.speaker, float32 bytes), or why it has none
    # (too short or too quiet); both null while it waits for the analysis queue.
    speaker_embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    speaker_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="clips")
