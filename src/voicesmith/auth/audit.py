"""The audit trail: one row per synthesis and per admin action, who did it, when and how."""

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from voicesmith.db import Base, UTCDateTime, utcnow

# Routes that are no HTTP path: the Wyoming server and the command line.
WYOMING = "wyoming"
CLI = "cli"


class Action(StrEnum):
    """What an audit row records."""

    SYNTHESIS = "synthesis"
    SHARING = "sharing"
    PROMOTE = "promote"
    DELETE_JOB = "delete_job"
    DELETE_ALIAS = "delete_alias"
    DELETE_DATASET = "delete_dataset"
    CONSENT = "consent"
    CONSENT_OVERRIDE = "consent_override"


class AuditEvent(Base):
    """Who did what to which voice, when; a synthesis adds the text's length, hash and audio."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # None: nobody logged in (Wyoming) or the server's own command line.
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(32))
    route: Mapped[str | None] = mapped_column(String(128), nullable=True)
    voice: Mapped[str | None] = mapped_column(String(96), nullable=True, index=True)
    job_id: Mapped[str | None] = mapped_column(String(96), nullable=True)
    checkpoint: Mapped[str | None] = mapped_column(String(255), nullable=True)
    text_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The text itself only with VOICESMITH_AUDIT_TEXT=true: the hash proves what was said.
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    audio_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def text_hash(text: str) -> str:
    """The SHA-256 of the text as UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record_synthesis(
    *,
    session: Session,
    actor: str | None,
    route: str,
    voice: str,
    job_id: str | None,
    checkpoint: str | None,
    text: str,
    seconds: float | None,
    keep_text: bool,
    detail: dict[str, Any] | None = None,
) -> None:
    """One synthesis, written and committed at once: a single small INSERT."""
    session.add(
        AuditEvent(
            actor=actor,
            action=Action.SYNTHESIS.value,
            route=route[:128],
            voice=voice[:96],
            job_id=job_id,
            checkpoint=checkpoint,
            text_length=len(text),
            text_sha256=text_hash(text),
            text=text if keep_text else None,
            audio_seconds=round(seconds, 3) if seconds is not None else None,
            detail=detail,
        )
    )
    session.commit()


def record_admin(
    *,
    session: Session,
    actor: str | None,
    action: Action | str,
    route: str | None = None,
    voice: str | None = None,
    job_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """An admin action, added to the caller's transaction, which commits it with the change."""
    event = AuditEvent(
        actor=actor,
        action=Action(action).value,
        route=route,
        voice=voice,
        job_id=job_id,
        detail=detail,
    )
    session.add(event)
    return event
