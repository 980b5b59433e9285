"""Looking at and changing a stored dataset: clip pages, transcripts, deletions."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core.text import cer
from voicesmith.datasets import ingest, layout, report
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.datasets.service import get_dataset, sync_dataset, validate_transcript
from voicesmith.errors import Conflict, NotFound


def dataset_or_404(*, session: Session, name: str) -> Dataset:
    """The named dataset, or NotFound."""
    dataset = get_dataset(session=session, name=name)
    if dataset is None:
        raise NotFound(f"dataset '{name}' does not exist")
    return dataset


def quality_report(*, session: Session, settings: Settings, name: str) -> dict[str, Any]:
    """The named dataset's stored quality report, or NotFound."""
    dataset = dataset_or_404(session=session, name=name)
    return report.stored(session=session, settings=settings, dataset=dataset)


def clip_page(*, session: Session, name: str, offset: int, limit: int) -> tuple[int, list[Clip]]:
    """The total clip count and one page of clips, in upload order."""
    dataset = dataset_or_404(session=session, name=name)
    total = session.scalar(select(func.count(Clip.id)).where(Clip.dataset_id == dataset.id))
    query = (
        select(Clip)
        .where(Clip.dataset_id == dataset.id)
        .order_by(Clip.id)
        .offset(offset)
        .limit(limit)
    )
    return total or 0, list(session.scalars(query))


def flagged_clips(*, session: Session, name: str) -> list[Clip]:
    """The clips a person should look at: flagged by the report, or failed in ASR."""
    dataset = dataset_or_404(session=session, name=name)
    query = (
        select(Clip)
        .where(Clip.dataset_id == dataset.id)
        .where((Clip.flags != "[]") | (Clip.status == ClipStatus.FAILED.value))
        .order_by(Clip.id)
    )
    return list(session.scalars(query))


def clip_or_404(*, session: Session, name: str, clip: str) -> Clip:
    """A dataset's clip by its WAV name, or NotFound."""
    dataset = dataset_or_404(session=session, name=name)
    row = session.scalar(
        select(Clip).where(Clip.dataset_id == dataset.id, Clip.wav_filename == clip)
    )
    if row is None:
        raise NotFound(f"clip '{clip}' is not in dataset '{name}'")
    return row


def clip_path(*, session: Session, settings: Settings, name: str, clip: str) -> Path:
    """Where a clip's WAV lives."""
    row = clip_or_404(session=session, name=name, clip=clip)
    return layout.dataset_dir(settings.datasets_dir, name) / layout.WAVS_DIR / row.wav_filename


def set_transcript(
    *, session: Session, settings: Settings, name: str, clip: str, transcript: str
) -> Clip:
    """Replace a clip's transcript (making a failed or pending clip ready) and re-render."""
    text = validate_transcript(transcript, max_chars=settings.max_transcript_chars)
    with layout.dataset_lock(settings.data_dir / "locks", name):
        row = clip_or_404(session=session, name=name, clip=clip)
        row.transcript, row.transcript_source = text, "user"
        row.status = ClipStatus.READY.value
        # The audio is unchanged, so what ASR heard still holds: only the comparison changes.
        row.cer = None if row.asr_text is None else round(cer(text, row.asr_text), 4)
        session.commit()
        sync_dataset(session=session, settings=settings, dataset=row.dataset)
    return row


def delete_clip(*, session: Session, settings: Settings, name: str, clip: str) -> None:
    """Remove a clip's row and WAV, then re-render metadata.csv."""
    with layout.dataset_lock(settings.data_dir / "locks", name):
        row = clip_or_404(session=session, name=name, clip=clip)
        dataset = row.dataset
        path = layout.dataset_dir(settings.datasets_dir, name) / layout.WAVS_DIR / row.wav_filename
        original = ingest.original_path(settings, name, row)
        session.delete(row)
        session.commit()
        # The row goes first: a WAV without a row is harmless, a row without its WAV is not.
        path.unlink(missing_ok=True)
        if original is not None:
            original.unlink(missing_ok=True)
        sync_dataset(session=session, settings=settings, dataset=dataset)


def delete_dataset(
    *, session: Session, settings: Settings, name: str, in_use: Callable[[str], str | None]
) -> None:
    """Delete a dataset and its files, unless in_use(name) names a job that uses it."""
    with layout.dataset_lock(settings.data_dir / "locks", name):
        dataset = dataset_or_404(session=session, name=name)
        # Asked under the lock: a job is submitted under the same lock, so none slips in.
        busy = in_use(name)
        if busy is not None:
            raise Conflict(f"job '{busy}' is using dataset '{name}'; cancel it first")
        session.delete(dataset)
        session.commit()
        shutil.rmtree(layout.dataset_dir(settings.datasets_dir, name), ignore_errors=True)
