"""Training jobs; the row is the record of truth, not the queue."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voicesmith.db import Base, UTCDateTime, utcnow


class JobStatus(StrEnum):
    """The seed's job statuses."""

    PENDING = "pending"
    TRAINING = "training"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (JobStatus.PENDING.value, JobStatus.TRAINING.value)
RESUMABLE = (JobStatus.FAILED.value, JobStatus.CANCELLED.value)


class Job(Base):
    """One fine-tuning run of one dataset."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    dataset_name: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=JobStatus.PENDING.value)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    warnings: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_dir: Mapped[str] = mapped_column(String(1024))
    worker_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    device: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # CUDA_VISIBLE_DEVICES of the worker slot that ran it; None when the worker named no GPUs.
    gpus: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # How many times the job was resumed, by an admin or after its worker was lost.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The fencing token: how many times a worker claimed it. Only the current attempt's
    # processes may write the job folder or record how the job ended.
    attempt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The admin who started it, who owns its voice; a name, so it outlives the account.
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Started without verified consent under VOICESMITH_CONSENT=require: why, and which admin.
    consent_override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    consent_override_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Worker(Base):
    """A running worker process; it rewrites last_seen every heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    gpus: Mapped[str | None] = mapped_column(String(255), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ConsentChallenge(Base):
    """A consent statement handed out to be read aloud once, before it expires."""

    __tablename__ = "consent_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # A name, not a foreign key: the audit outlives the dataset.
    dataset_name: Mapped[str] = mapped_column(String(64), index=True)
    speaker_name: Mapped[str] = mapped_column(String(100))
    statement: Mapped[str] = mapped_column(Text)
    phrase: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ConsentRecord(Base):
    """The audit of one consent recording's verdict, or of one job started by override."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_name: Mapped[str] = mapped_column(String(64), index=True)
    # verified, rejected, or override (a job started without consent, with a reason).
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    challenge_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    speaker_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    heard: Mapped[str | None] = mapped_column(Text, nullable=True)
    cer: Mapped[float | None] = mapped_column(Float, nullable=True)
    similarity: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The upload as sent, under <data_dir>/consent/, and the SHA-256 of its bytes.
    recording: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(96), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
