"""Voice aliases: a friendly name for a completed job and, optionally, one of its checkpoints."""

from datetime import datetime

from sqlalchemy import Boolean, String, false
from sqlalchemy.orm import Mapped, mapped_column

from voicesmith.db import Base, UTCDateTime, utcnow


class VoiceAlias(Base):
    """An admin-chosen name that points at a job's voice."""

    __tablename__ = "voice_aliases"

    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(96), index=True)
    checkpoint: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Wyoming has no authentication: only voices an admin marks are served over it.
    wyoming: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
