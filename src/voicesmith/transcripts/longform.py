"""Long recordings: accept the upload, then split it at pauses into transcribed clips."""

import logging
import re
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO

import av
from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core.files import write_temp
from voicesmith.datasets import ingest
from voicesmith.datasets.scrub import ScrubReport, scrub
from voicesmith.datasets.service import check_size, validate_dataset_name
from voicesmith.db import utcnow
from voicesmith.errors import BadInput, NotFound, VoicesmithError
from voicesmith.transcripts import cutting
from voicesmith.transcripts.models import ImportStatus, LongImport

log = logging.getLogger("voicesmith.asr")
UNFINISHED = (ImportStatus.QUEUED.value, ImportStatus.RUNNING.value)
PROGRESS_EVERY_SECONDS = 1.0
SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}", re.ASCII)
Progress = Callable[[str, float], None]


def create_import(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    audio: BinaryIO,
    filename: str,
    transcript: str = "",
) -> LongImport:
    """Check and keep a long recording, and record the import that will split it."""
    name = validate_dataset_name(dataset_name)
    text = _full_transcript(transcript)
    limit = int(settings.max_long_upload_mb * 2**20)
    check_size(audio, limit, noun="recording", hint=" (VOICESMITH_MAX_LONG_UPLOAD_MB)")
    source = _keep(audio, settings, filename)
    try:
        duration = _probe(source, settings.max_long_seconds)
    except BaseException:
        source.unlink(missing_ok=True)
        raise
    row = LongImport(
        dataset_name=name,
        original_filename=Path(filename).name[:255] or "recording",
        source_path=str(source),
        transcript=text or None,
        duration_seconds=duration,
    )
    session.add(row)
    session.commit()
    return row


def queue_import(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    audio: BinaryIO,
    filename: str,
    transcript: str,
    enqueue: Callable[[int], object],
) -> LongImport:
    """Accept a long recording and queue the import that splits it in the background."""
    row = create_import(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        audio=audio,
        filename=filename,
        transcript=transcript,
    )
    enqueue(row.id)
    return row


def _full_transcript(transcript: str) -> str:
    """The whole recording's transcript on one line, or "" for none."""
    if "|" in transcript:
        raise BadInput("transcript may not contain '|', which separates fields in metadata.csv")
    return " ".join(transcript.split())


def _keep(audio: BinaryIO, settings: Settings, filename: str) -> Path:
    """Copy the upload into tmp/, where it waits for the background task."""
    suffix = Path(filename).suffix.lower()
    # Only a plain extension reaches the file name; the decoder does not need it anyway.
    suffix = suffix if SAFE_SUFFIX.fullmatch(suffix) else ".bin"
    audio.seek(0)
    copy = partial(shutil.copyfileobj, audio)
    # No fsync: the copy only waits in tmp/ for the background task, and the scrub clears it.
    return write_temp(settings.data_dir / "tmp", copy, prefix="long-", suffix=suffix, sync=False)


def _probe(path: Path, max_seconds: float) -> float | None:
    """The recording's length from its container; BadInput when it is not audio or too long."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise BadInput(f"the file has no audio stream; {ingest.FORMATS_HINT}")
            seconds = container.duration / av.time_base if container.duration else None
    except (av.FFmpegError, ValueError, IndexError, EOFError) as exc:
        raise BadInput(f"could not decode audio; {ingest.FORMATS_HINT}") from exc
    if seconds is not None and seconds > max_seconds:
        raise BadInput(
            f"the recording is {_length(seconds)}; the limit is {_length(max_seconds)} "
            "(VOICESMITH_MAX_LONG_SECONDS): split it first"
        )
    return seconds


def _length(seconds: float) -> str:
    """A duration as people say it: seconds, or minutes past two of them."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def get_import(*, session: Session, import_id: int) -> LongImport:
    """A long import by id, or NotFound."""
    row = session.get(LongImport, import_id)
    if row is None:
        raise NotFound(f"long import {import_id} does not exist")
    return row


def unfinished(*, session: Session) -> list[int]:
    """Imports a stopped worker left queued or running."""
    query = select(LongImport.id).where(LongImport.status.in_(UNFINISHED))
    ids = list(session.scalars(query.order_by(LongImport.id)))
    session.commit()
    return ids


def waiting_recordings(*, session: Session) -> set[str]:
    """The long recordings in tmp/ that a queued or running import will still read."""
    query = select(LongImport.source_path).where(LongImport.status.in_(UNFINISHED))
    return {Path(p).name for p in session.scalars(query)}


def scrub_leftovers(*, session: Session, settings: Settings) -> ScrubReport:
    """The start-up scrub, sparing the recordings that imports still wait on."""
    return scrub(session=session, settings=settings, keep=waiting_recordings(session=session))


def run_import(
    *, session: Session, settings: Settings, import_id: int, progress: Progress | None = None
) -> LongImport | None:
    """Split, transcribe and store one long recording; the row ends completed or failed."""
    row = session.get(LongImport, import_id)
    if row is None or row.status not in UNFINISHED:
        session.commit()
        return row
    report = _reporter(session, row, progress)
    report("decoding", 0.0)
    try:
        stored = cutting.split_and_store(session=session, settings=settings, row=row, report=report)
        _finish(session, row, ImportStatus.COMPLETED, stored.note, clips=stored.count)
    except VoicesmithError as exc:
        _finish(session, row, ImportStatus.FAILED, exc.detail)
    except Exception as exc:  # the row must never stay `running`, whatever broke
        log.exception("long import %s failed", import_id)
        detail = f"the import failed: {type(exc).__name__}: {exc}"
        _finish(session, row, ImportStatus.FAILED, detail)
    Path(row.source_path).unlink(missing_ok=True)
    return row


def _reporter(session: Session, row: LongImport, progress: Progress | None) -> Progress:
    """A callback that stores phase and percent in the row, at most once a second."""
    last = [0.0, ""]

    def report(phase: str, percent: float) -> None:
        now = time.monotonic()
        if phase == last[1] and now - last[0] < PROGRESS_EVERY_SECONDS:
            return
        last[:] = [now, phase]
        row.status, row.phase, row.percent = ImportStatus.RUNNING.value, phase, round(percent, 1)
        session.commit()
        if progress:
            progress(phase, percent)

    return report


def _finish(
    session: Session, row: LongImport, status: ImportStatus, detail: str | None, *, clips: int = 0
) -> None:
    """Record how an import ended."""
    session.rollback()  # whatever failed half-way is not kept
    row.status, row.phase, row.detail = status.value, status.value, detail
    row.clips, row.finished_at = clips, utcnow()
    if status == ImportStatus.COMPLETED:
        row.percent = 100.0
    session.commit()
