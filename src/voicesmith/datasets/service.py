"""Storing uploaded clips and listing datasets."""

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import layout
from voicesmith.datasets.audio import TARGET_RATE, AudioDecodeError, DecodedAudio, decode_to_pcm16
from voicesmith.datasets.models import Clip, Dataset
from voicesmith.errors import BadInput, NotFound, TooLarge

DATASET_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
FORMATS_HINT = "upload MP3, WAV, M4A, FLAC or OGG audio"


@dataclass(frozen=True)
class StoredClip:
    """Where an uploaded clip landed."""

    dataset: str
    wav_filename: str
    metadata_path: Path
    duration_seconds: float


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset with its clip count and total length."""

    name: str
    audio_count: int
    total_seconds: float
    created_at: datetime


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
    return text


def store_upload(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    transcript: str,
    audio: BinaryIO,
    filename: str,
) -> StoredClip:
    """Validate, convert and store one clip, then re-render the dataset's metadata.csv."""
    name = validate_dataset_name(dataset_name)
    text = validate_transcript(transcript, max_chars=settings.max_transcript_chars)
    _check_size(audio, settings.max_upload_bytes)
    digest = file_digest(audio)
    decoded = decode_checked(audio, settings)
    tmp = layout.write_wav_temp(decoded.samples, TARGET_RATE, settings.data_dir / "tmp")
    source = ClipSource.of(filename, text, decoded, digest)
    try:
        with layout.dataset_lock(settings.data_dir / "locks", name):
            dataset = get_or_create_dataset(session=session, name=name)
            clip = commit_clip(
                session=session,
                settings=settings,
                dataset=dataset,
                tmp=tmp,
                clip=new_clip(dataset, source),
            )
            metadata = render_metadata(session=session, settings=settings, dataset=dataset)
    finally:
        tmp.unlink(missing_ok=True)
    return StoredClip(name, clip.wav_filename, metadata, clip.duration_seconds)


def _check_size(audio: BinaryIO, limit: int) -> None:
    """Reject empty and oversized uploads before decoding."""
    size = audio.seek(0, os.SEEK_END)
    audio.seek(0)
    if size == 0:
        raise BadInput("the audio file is empty")
    if size > limit:
        raise TooLarge(
            f"the audio file is {size / 2**20:.3g} MB; the limit is {limit / 2**20:.3g} MB"
        )


def file_digest(handle: BinaryIO) -> str:
    """SHA-256 of a file's bytes, read in chunks; leaves the handle at the start."""
    handle.seek(0)
    digest = hashlib.file_digest(handle, "sha256").hexdigest()
    handle.seek(0)
    return digest


def decode_checked(audio: BinaryIO | Path, settings: Settings) -> DecodedAudio:
    """Decode the upload, turning decoder failures and bad lengths into BadInput."""
    try:
        decoded = decode_to_pcm16(audio, max_seconds=settings.max_clip_seconds)
    except AudioDecodeError as exc:
        hint = "split it into sentences" if "longer" in str(exc) else FORMATS_HINT
        raise BadInput(f"{exc}; {hint}") from exc
    if decoded.duration_seconds < settings.min_clip_seconds:
        raise BadInput(
            f"the clip is {decoded.duration_seconds:.2f} s; clips must be at least "
            f"{settings.min_clip_seconds:g} s"
        )
    return decoded


@dataclass(frozen=True)
class ClipSource:
    """What a converted clip row records about its upload."""

    filename: str
    transcript: str
    duration_seconds: float
    source_format: str
    source_codec: str
    source_rate: int
    source_channels: int
    content_hash: str | None

    @classmethod
    def of(
        cls, filename: str, text: str, decoded: DecodedAudio, digest: str | None
    ) -> "ClipSource":
        """The record for a decoded upload."""
        return cls(
            filename,
            text,
            decoded.duration_seconds,
            decoded.source_format,
            decoded.source_codec,
            decoded.source_rate,
            decoded.source_channels,
            digest,
        )


def new_clip(dataset: Dataset, source: ClipSource) -> Clip:
    """A clip row for converted audio; the WAV name is chosen under the lock."""
    return Clip(
        dataset_id=dataset.id,
        wav_filename=layout.safe_stem(source.filename),
        transcript=source.transcript,
        duration_seconds=source.duration_seconds,
        original_filename=Path(source.filename).name[:255] or "upload",
        original_format=source.source_format[:64],
        original_codec=source.source_codec[:64],
        original_sample_rate=source.source_rate,
        original_channels=source.source_channels,
        content_hash=source.content_hash,
    )


def get_or_create_dataset(*, session: Session, name: str) -> Dataset:
    """The dataset row with this name, created on first upload."""
    dataset = get_dataset(session=session, name=name)
    if dataset is not None:
        return dataset
    try:
        dataset = Dataset(name=name)
        session.add(dataset)
        session.commit()
    except IntegrityError:
        # Another host created it between our read and write.
        session.rollback()
        dataset = get_dataset(session=session, name=name)
        assert dataset is not None
    return dataset


def commit_clip(
    *, session: Session, settings: Settings, dataset: Dataset, tmp: Path, clip: Clip
) -> Clip:
    """Move the WAV into wavs/ and commit its row; neither survives without the other."""
    wavs = layout.dataset_dir(settings.datasets_dir, dataset.name) / layout.WAVS_DIR
    wavs.mkdir(parents=True, exist_ok=True)
    clip.wav_filename = _unique_wav_name(session, dataset, wavs, clip.wav_filename)
    session.add(clip)
    session.flush()
    final = wavs / clip.wav_filename
    os.replace(tmp, final)
    try:
        session.commit()
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    layout.fsync_dir(wavs)
    return clip


def _unique_wav_name(session: Session, dataset: Dataset, wavs: Path, stem: str) -> str:
    """stem.wav, or stem_2.wav, stem_3.wav... when taken by a row or a file."""
    taken = set(session.scalars(select(Clip.wav_filename).where(Clip.dataset_id == dataset.id)))
    candidate, n = f"{stem}.wav", 1
    while candidate in taken or (wavs / candidate).exists():
        n += 1
        candidate = f"{stem}_{n}.wav"
    return candidate


def render_metadata(*, session: Session, settings: Settings, dataset: Dataset) -> Path:
    """Rewrite metadata.csv from the clip rows; call with the dataset lock held."""
    rows = _metadata_rows(session, dataset)
    path = layout.dataset_dir(settings.datasets_dir, dataset.name) / layout.METADATA_FILE
    layout.render_metadata(path, rows)
    return path.resolve()


def _metadata_rows(session: Session, dataset: Dataset) -> list[tuple[str, str]]:
    """(wav, transcript) of every clip in upload order; ends the read transaction."""
    query = (
        select(Clip.wav_filename, Clip.transcript)
        .where(Clip.dataset_id == dataset.id)
        .order_by(Clip.id)
    )
    rows = list(session.execute(query).tuples())
    session.commit()
    return rows


def get_dataset(*, session: Session, name: str) -> Dataset | None:
    """The dataset with this name, if any."""
    return session.scalar(select(Dataset).where(Dataset.name == name))


def list_datasets(*, session: Session) -> list[DatasetSummary]:
    """Every dataset with its clip count and total audio length."""
    query = (
        select(
            Dataset.name,
            Dataset.created_at,
            func.count(Clip.id),
            func.coalesce(func.sum(Clip.duration_seconds), 0.0),
        )
        .outerjoin(Clip, Clip.dataset_id == Dataset.id)
        .group_by(Dataset.id)
        .order_by(Dataset.name)
    )
    return [
        DatasetSummary(name=name, audio_count=count, total_seconds=float(total), created_at=created)
        for name, created, count, total in session.execute(query)
    ]


def export_zip(*, session: Session, settings: Settings, name: str) -> Path:
    """A temporary zip of the dataset's LJSpeech folder (metadata.csv + wavs/), consistent."""
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
        zf.writestr(f"{name}/{layout.METADATA_FILE}", layout.metadata_text(rows))
        for wav, _ in rows:
            zf.write(folder / layout.WAVS_DIR / wav, f"{name}/{layout.WAVS_DIR}/{wav}")
    return Path(target)
