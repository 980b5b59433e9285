"""Request and response bodies for long imports."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from voicesmith.transcripts.models import LongImport


class LongImportAccepted(BaseModel):
    """A long recording was kept and queued for splitting."""

    status: Literal["accepted"] = "accepted"
    import_id: int
    dataset: str
    duration_seconds: float | None
    progress_url: str


class LongImportOut(BaseModel):
    """Where a long import stands: status, phase, percent and how many clips it made."""

    import_id: int
    dataset: str
    original_filename: str
    status: str
    phase: str
    percent: float
    duration_seconds: float | None
    clips: int
    detail: str | None
    transcript_given: bool
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: LongImport) -> "LongImportOut":
        """The view of an import row."""
        return cls(
            import_id=row.id,
            dataset=row.dataset_name,
            original_filename=row.original_filename,
            status=row.status,
            phase=row.phase,
            percent=row.percent,
            duration_seconds=row.duration_seconds,
            clips=row.clips,
            detail=row.detail,
            transcript_given=bool(row.transcript),
            created_at=row.created_at,
            finished_at=row.finished_at,
        )
