"""Voice aliases (a friendly name for a completed job's voice) and who each voice is shared with."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class Sharing(StrEnum):
    """Who may see and speak a voice besides admins: nobody, named users, or everyone."""

    PRIVATE = "private"
    USERS = "users"
    EVERYONE = "everyone"


class VoiceSharing(Base):
    """A voice name's sharing; a name without a row is private, as every new voice starts."""

    __tablename__ = "voice_sharing"

    # A job id or an alias: an alias can be shared while the job's own id stays private.
    voice: Mapped[str] = mapped_column(String(96), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default=Sharing.PRIVATE.value)
    changed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    users: Mapped[list["VoiceShare"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class VoiceShare(Base):
    """One user a voice is shared with, when its mode is `users`."""

    __tablename__ = "voice_shares"

    voice: Mapped[str] = mapped_column(
        ForeignKey("voice_sharing.voice", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
