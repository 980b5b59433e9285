"""The upload use cases: store clips, then hand them to speech recognition."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastapi import UploadFile
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import bulk, ingest, staging
from voicesmith.datasets.models import ClipStatus
from voicesmith.datasets.service import (
    check_size,
    get_dataset,
    optional_transcript,
    validate_dataset_name,
)
from voicesmith.datasets.storing import Prepared, new_rows, store_clips
from voicesmith.errors import BadInput

# Queues clips for analysis: speech recognition, to transcribe them or to check the
# transcript they came with, and their speaker embedding. Passed in, because the queue
# lives in a package above this one.
EnqueueAsr = Callable[[list[int]], object]


@dataclass(frozen=True)
class StoredClip:
    """Where an uploaded clip landed."""

    dataset: str
    wav_filename: str
    metadata_path: Path
    duration_seconds: float
    clip_id: int = 0
    status: str = ClipStatus.READY.value


def upload_clip(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    transcript: str,
    audio: BinaryIO,
    filename: str,
    enqueue_asr: EnqueueAsr,
) -> StoredClip:
    """Store one uploaded clip and queue it for speech recognition."""
    stored = store_upload(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        transcript=transcript,
        audio=audio,
        filename=filename,
    )
    enqueue_asr([stored.clip_id])
    return stored


def upload_batch(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    audio: list[UploadFile],
    metadata: UploadFile | None,
    archive: UploadFile | None,
    enqueue_asr: EnqueueAsr,
) -> bulk.BatchResult:
    """Store a zip, or clips plus a metadata file, and queue the clips for speech recognition."""
    if (archive is None) == (not audio):
        raise BadInput("send either one zip ('archive') or audio files with a metadata part")
    with staging.unpacked(settings, archive=archive, audio=audio) as files:
        return import_files(
            session=session,
            settings=settings,
            dataset_name=dataset_name,
            files=files,
            metadata=metadata.file.read() if metadata else None,
            enqueue_asr=enqueue_asr,
        )


def import_files(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    files: list[tuple[str, Path]],
    metadata: bytes | None,
    enqueue_asr: EnqueueAsr,
    progress: Callable[[str], None] | None = None,
) -> bulk.BatchResult:
    """Bulk-import files already on disk and queue the clips for speech recognition."""
    result = bulk.import_batch(
        session=session,
        settings=settings,
        dataset_name=dataset_name,
        files=files,
        metadata=metadata,
        progress=progress,
    )
    enqueue_asr(result.clip_ids)
    return result


def store_upload(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    transcript: str,
    audio: BinaryIO,
    filename: str,
) -> StoredClip:
    """Validate, convert and store one clip, then re-render the dataset's metadata.csv.

    A clip sent without a transcript is stored as `transcribing`, for ASR to fill in.
    """
    name = validate_dataset_name(dataset_name)
    text = optional_transcript(transcript, max_chars=settings.max_transcript_chars)
    check_size(audio, settings.max_upload_bytes)
    digest = ingest.file_digest(audio)
    decoded = ingest.decode_checked(audio, settings)
    cleanup = ingest.cleanup_of(get_dataset(session=session, name=name), settings)
    # End the read: holding SQLite's write lock while waiting for the dataset lock deadlocks.
    session.commit()
    converted, original = ingest.convert_and_keep(decoded, audio, cleanup, settings)
    prepared = Prepared(ingest.ClipSource(filename, text, decoded, converted, digest), original)
    try:
        stored = store_clips(
            session=session, settings=settings, name=name, rows=new_rows([prepared])
        )
    finally:
        prepared.discard()
    clip = stored.clips[0]
    return StoredClip(
        name, clip.wav_filename, stored.metadata, clip.duration_seconds, clip.id, clip.status
    )
