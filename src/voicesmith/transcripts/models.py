"""Long-recording imports: the row a client polls while a recording is split into clips."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voicesmith.db import Base, UTCDateTime, utcnow


class ImportStatus(StrEnum):
    """Where a long import stands."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class LongImport(Base):
    """One long recording being split at pauses into transcribed clips."""

    __tablename__ = "long_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_name: Mapped[str] = mapped_column(String(64), index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    # The upload waiting in tmp/ until the task has split it; removed afterwards.
    source_path: Mapped[str] = mapped_column(String(1024))
    # The user's full transcript, if given: each clip takes its aligned span of it.
    transcript: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.QUEUED.value)
    phase: Mapped[str] = mapped_column(String(32), default="queued")
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    clips: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
