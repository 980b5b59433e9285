"""Datasets: names and transcripts checked, rows created, metadata.csv rendered, exported."""

import json
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import ingest, layout, report
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.errors import BadInput, NotFound, TooLarge

DATASET_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
# An HTML/XML/SSML tag: never spoken, and a stored XSS waiting for any page that forgets to escape.
MARKUP_RE = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>")


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset with its clip count, total length, report counts and clean-up settings."""

    name: str
    audio_count: int
    total_seconds: float
    created_at: datetime
    warning_count: int
    flagged_clips: int
    trim_silence: bool
    normalize_loudness: bool
    target_lufs: float
    pending_clips: int = 0
    failed_clips: int = 0


def validate_dataset_name(name: str) -> str:
    """Return the name if it is safe as a directory name, else raise BadInput."""
    if not DATASET_NAME_RE.fullmatch(name):
        raise BadInput(
            "dataset name may contain only letters, digits, '_' and '-', 1 to 64 characters"
        )
    return name


def validate_transcript(text: str, *, max_chars: int) -> str:
    """Return a clean single-line transcript, else raise BadInput naming the problem."""
    if "|" in text:
        raise BadInput("transcript may not contain '|', which separates fields in metadata.csv")
    if "\n" in text or "\r" in text:
        raise BadInput("transcript must be a single line; remove the line breaks")
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise BadInput("transcript is empty; type what is said in the clip")
    bad = next((c for c in text if unicodedata.category(c) in {"Cc", "Cf", "Cs"}), None)
    if bad is not None:
        raise BadInput(f"transcript contains the control character U+{ord(bad):04X}; remove it")
    if len(text) > max_chars:
        raise BadInput(f"transcript is {len(text)} characters; the limit is {max_chars}")
    if (tag := MARKUP_RE.search(text)) is not None:
        raise BadInput(
            f"transcript contains markup ({tag.group()[:40]}); write only the spoken words"
        )
    return text


def optional_transcript(text: str, *, max_chars: int) -> str:
    """A validated transcript, or "" when none was given (ASR will supply one)."""
    if not text.strip():
        return ""
    return validate_transcript(text, max_chars=max_chars)


def check_size(audio: BinaryIO, limit: int, *, noun: str = "audio file", hint: str = "") -> None:
    """Reject empty and oversized uploads before decoding."""
    size = audio.seek(0, os.SEEK_END)
    audio.seek(0)
    if size == 0:
        raise BadInput(f"the {noun} is empty")
    if size > limit:
        raise TooLarge(
            f"the {noun} is {size / 2**20:.3g} MB; the limit is {limit / 2**20:.3g} MB{hint}"
        )


def get_or_create_dataset(*, session: Session, settings: Settings, name: str) -> Dataset:
    """The dataset row with this name, created on first upload with the default clean-up."""
    dataset = get_dataset(session=session, name=name)
    if dataset is not None:
        return dataset
    try:
        cleanup = ingest.cleanup_of(None, settings)
        dataset = Dataset(name=name, **vars(cleanup))
        session.add(dataset)
        session.commit()
    except IntegrityError:
        # Another host created it between our read and write.
        session.rollback()
        dataset = get_dataset(session=session, name=name)
        assert dataset is not None
    return dataset


def sync_dataset(*, session: Session, settings: Settings, dataset: Dataset) -> Path:
    """Re-render metadata.csv and the quality report after a change; hold the dataset lock."""
    path = render_metadata(session=session, settings=settings, dataset=dataset)
    report.refresh(session=session, settings=settings, dataset=dataset)
    return path


def render_metadata(*, session: Session, settings: Settings, dataset: Dataset) -> Path:
    """Rewrite metadata.csv from the clip rows; call with the dataset lock held."""
    rows = _metadata_rows(session, dataset)
    path = layout.dataset_dir(settings.datasets_dir, dataset.name) / layout.METADATA_FILE
    layout.render_metadata(path, rows)
    return path.resolve()


def _metadata_rows(session: Session, dataset: Dataset) -> list[tuple[str, str]]:
    """(wav, transcript) of every ready clip in upload order; ends the read transaction."""
    query = (
        select(Clip.wav_filename, Clip.transcript)
        .where(Clip.dataset_id == dataset.id, Clip.status == ClipStatus.READY.value)
        .order_by(Clip.id)
    )
    rows = list(session.execute(query).tuples())
    session.commit()
    return rows


def get_dataset(*, session: Session, name: str) -> Dataset | None:
    """The dataset with this name, if any."""
    return session.scalar(select(Dataset).where(Dataset.name == name))


def list_datasets(*, session: Session) -> list[DatasetSummary]:
    """Every dataset with its ready, pending and failed clip counts and its ready audio length."""
    ready = Clip.status == ClipStatus.READY.value
    query = (
        select(
            Dataset,
            func.coalesce(func.sum(case((ready, 1), else_=0)), 0),
            func.coalesce(func.sum(case((ready, Clip.duration_seconds), else_=0.0)), 0.0),
            _count_status(ClipStatus.TRANSCRIBING),
            _count_status(ClipStatus.FAILED),
        )
        .outerjoin(Clip, Clip.dataset_id == Dataset.id)
        .group_by(Dataset.id)
        .order_by(Dataset.name)
    )
    rows = session.execute(query).tuples()
    return [_summary(d, count, float(total), (p, f)) for d, count, total, p, f in rows]


def _count_status(status: ClipStatus) -> ColumnElement[int]:
    """How many of a dataset's clips have this status, as a column of the list query."""
    return func.coalesce(func.sum(case((Clip.status == status.value, 1), else_=0)), 0)


def _summary(
    dataset: Dataset, count: int, total: float, not_ready: tuple[int, int]
) -> DatasetSummary:
    """The list entry of one dataset."""
    stored = json.loads(dataset.report) if dataset.report else {}
    return DatasetSummary(
        name=dataset.name,
        audio_count=count,
        total_seconds=total,
        created_at=dataset.created_at,
        warning_count=len(stored.get("warnings", [])),
        flagged_clips=stored.get("totals", {}).get("flagged_clips", 0),
        trim_silence=dataset.trim_silence,
        normalize_loudness=dataset.normalize_loudness,
        target_lufs=dataset.target_lufs,
        pending_clips=int(not_ready[0]),
        failed_clips=int(not_ready[1]),
    )


def export_zip(
    *,
    session: Session,
    settings: Settings,
    name: str,
    export_layout: layout.ExportLayout = "ljspeech",
) -> Path:
    """A temporary zip of the dataset (metadata.csv in the layout asked for + wavs/)."""
    dataset = get_dataset(session=session, name=validate_dataset_name(name))
    if dataset is None:
        raise NotFound(f"dataset '{name}' does not exist")
    folder = layout.dataset_dir(settings.datasets_dir, name)
    (settings.data_dir / "tmp").mkdir(parents=True, exist_ok=True)
    fd, target = tempfile.mkstemp(
        prefix=f"export-{name}-", suffix=".zip", dir=settings.data_dir / "tmp"
    )
    os.close(fd)
    # Under the lock, so no upload lands between writing metadata.csv and the WAVs it lists.
    with layout.dataset_lock(settings.data_dir / "locks", name), zipfile.ZipFile(target, "w") as zf:
        rows = _metadata_rows(session, dataset)
        metadata = layout.export_metadata_text(rows, export_layout)
        zf.writestr(f"{name}/{layout.METADATA_FILE}", metadata)
        for wav, _ in rows:
            zf.write(folder / layout.WAVS_DIR / wav, f"{name}/{layout.WAVS_DIR}/{wav}")
    session.commit()  # nothing stays open while the zip is sent
    return Path(target)
