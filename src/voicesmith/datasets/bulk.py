"""Bulk import: many clips and one metadata file, converted in parallel, stored in one go."""

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import ingest, quality
from voicesmith.datasets.metadata import match, parse_metadata
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.datasets.service import get_dataset, optional_transcript, validate_dataset_name
from voicesmith.datasets.storing import ClipRows, Prepared, store_clips
from voicesmith.errors import BadInput, VoicesmithError

METADATA_NAMES = ("metadata.csv", "metadata.txt", "metadata.tsv")


@dataclass(frozen=True)
class Rejection:
    """A file that was not stored, and why."""

    file: str
    detail: str


@dataclass(frozen=True)
class BatchResult:
    """What a bulk import stored and what it refused."""

    dataset: str
    stored: int
    audio_count: int
    rejected: list[Rejection]
    # Every stored clip goes to ASR: to transcribe it, or to check the transcript it came with.
    clip_ids: list[int]
    pending: int


def import_batch(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    files: list[tuple[str, Path]],
    metadata: bytes | None,
    progress: Callable[[str], None] | None = None,
) -> BatchResult:
    """Convert every clip in parallel, then store the good ones under one lock.

    Clips with no line in the metadata (or no metadata at all) are stored for ASR to transcribe.
    """
    name = validate_dataset_name(dataset_name)
    files, metadata = _split_metadata(files, metadata)
    pairs, rejected = _pair(files, parse_metadata(metadata) if metadata is not None else {})
    cleanup = ingest.cleanup_of(get_dataset(session=session, name=name), settings)
    session.commit()  # ends the read, so the long conversion holds no database lock
    prepared = _prepare_all(settings, cleanup, pairs, rejected, progress or (lambda _: None))
    try:
        stored = _store(session, settings, name, prepared, rejected)
    finally:
        for item in prepared:
            item.discard()
    ids = [clip_id for clip_id, _ in stored]
    pending = sum(1 for _, status in stored if status == ClipStatus.TRANSCRIBING)
    count = clip_count(session=session, name=name)
    return BatchResult(name, len(ids), count, rejected, ids, pending)


def _split_metadata(
    files: list[tuple[str, Path]], metadata: bytes | None
) -> tuple[list[tuple[str, Path]], bytes | None]:
    """Take the metadata file out of the batch when it came inside (e.g. in a zip)."""
    inside = [(n, p) for n, p in files if n.lower() in METADATA_NAMES]
    audio = [(n, p) for n, p in files if n.lower() not in METADATA_NAMES]
    if metadata is None and inside:
        metadata = inside[0][1].read_bytes()
    if not audio:
        raise BadInput("no audio files in the upload")
    return audio, metadata


def _pair(
    files: list[tuple[str, Path]], entries: dict[str, str]
) -> tuple[list[tuple[str, Path, str]], list[Rejection]]:
    """Match audio files with transcripts; report the files and lines left over."""
    pairs, rejected, used, seen = [], [], set(), set()
    for name, path in files:
        found = match(entries, name)
        if name in seen:
            rejected.append(Rejection(name, "the same filename appears twice in the upload"))
        elif found is None:
            pairs.append((name, path, ""))
        else:
            pairs.append((name, path, found[1]))
            used.add(found[0])
        seen.add(name)
    rejected += [
        Rejection(key, "listed in the metadata but no such audio file was sent")
        for key in entries
        if key not in used
    ]
    return pairs, rejected


def _prepare_all(
    settings: Settings,
    cleanup: quality.Cleanup,
    pairs: list[tuple[str, Path, str]],
    rejected: list[Rejection],
    progress: Callable[[str], None],
) -> list[Prepared]:
    """Decode and convert on every core; failures become rejections."""

    def one(pair: tuple[str, Path, str]) -> Prepared | Rejection:
        result = _prepare(settings, cleanup, *pair)
        progress(pair[0])
        return result

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = [pool.submit(one, pair) for pair in pairs]
    failures = [f.exception() for f in futures if f.exception() is not None]
    results = [f.result() for f in futures if f.exception() is None]
    if failures:
        # E.g. the disk filled up: the clips converted so far must not stay in tmp/.
        for item in results:
            if isinstance(item, Prepared):
                item.discard()
        raise failures[0]
    rejected += [r for r in results if isinstance(r, Rejection)]
    return [r for r in results if isinstance(r, Prepared)]


def _prepare(
    settings: Settings, cleanup: quality.Cleanup, name: str, path: Path, transcript: str
) -> Prepared | Rejection:
    """Check and convert one clip into a temporary WAV, with a copy of its original."""
    try:
        text = optional_transcript(transcript, max_chars=settings.max_transcript_chars)
        if path.stat().st_size == 0:
            raise BadInput("the audio file is empty")
        with path.open("rb") as handle:
            digest = ingest.file_digest(handle)
            decoded = ingest.decode_checked(handle, settings)
            converted, original = ingest.convert_and_keep(decoded, handle, cleanup, settings)
    except VoicesmithError as exc:
        return Rejection(name, exc.detail)
    return Prepared(ingest.ClipSource(name, text, decoded, converted, digest), original)


def _store(
    session: Session,
    settings: Settings,
    name: str,
    prepared: list[Prepared],
    rejected: list[Rejection],
) -> list[tuple[int, str]]:
    """Commit the new clips, skipping content already in the dataset, and render metadata once.

    Returns the id and status of each clip stored.
    """
    rows = _new_rows(session, prepared, rejected)
    stored = store_clips(session=session, settings=settings, name=name, rows=rows)
    return [(clip.id, clip.status) for clip in stored.clips]


def _new_rows(session: Session, prepared: list[Prepared], rejected: list[Rejection]) -> ClipRows:
    """New rows for the clips whose content the dataset does not hold yet; the rest rejected."""

    def rows(dataset: Dataset) -> Iterator[tuple[Clip, Prepared]]:
        known = _existing_hashes(session, dataset.name)
        for item in prepared:
            digest = item.source.content_hash
            if digest in known:
                detail = f"duplicate of {known[digest]} already stored"
                rejected.append(Rejection(item.source.filename, detail))
                continue
            clip = ingest.new_clip(dataset, item.source)
            yield clip, item
            known[digest] = clip.wav_filename  # committed by now, under its final name

    return rows


def clip_count(*, session: Session, name: str) -> int:
    """How many clips of the dataset have a transcript, as metadata.csv lists them."""
    query = (
        select(func.count(Clip.id))
        .join(Dataset)
        .where(Dataset.name == name, Clip.status == ClipStatus.READY.value)
    )
    return session.scalar(query) or 0


def _existing_hashes(session: Session, name: str) -> dict[str | None, str]:
    """Content hash to WAV name for the dataset's clips."""
    rows = session.execute(
        select(Clip.content_hash, Clip.wav_filename).join(Dataset).where(Dataset.name == name)
    )
    return {digest: wav for digest, wav in rows}
