"""Turning one upload into a stored clip: decode, measure, clean, keep the original, commit."""

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core.files import fsync_dir, write_temp, write_wav_temp
from voicesmith.datasets import layout, quality
from voicesmith.datasets.audio import TARGET_RATE, AudioDecodeError, DecodedAudio, decode_to_pcm16
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.errors import BadInput

FORMATS_HINT = "upload MP3, WAV, M4A, FLAC or OGG audio"
ORIGINALS_DIR = "originals"
# Below one 16-bit step (-90.3 dBFS) at its loudest, a clip is digital silence: a muted
# microphone. Merely quiet clips are stored, and the quality report flags them.
SILENT_PEAK_DBFS = -90.0
_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}", re.ASCII)


@dataclass(frozen=True)
class Converted:
    """A decoded upload, measured, cleaned and written to a temporary WAV."""

    wav: Path
    duration_seconds: float
    metrics: quality.Metrics


@dataclass(frozen=True)
class ClipSource:
    """What a converted clip row records about its upload."""

    filename: str
    transcript: str
    decoded: DecodedAudio
    converted: Converted
    content_hash: str | None


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
    _check_length(decoded.duration_seconds, settings, "")
    return decoded


def cleanup_of(dataset: Dataset | None, settings: Settings) -> quality.Cleanup:
    """The dataset's clean-up settings, or the configured defaults for a new dataset."""
    if dataset is None:
        return quality.Cleanup(
            settings.trim_silence, settings.normalize_loudness, settings.target_lufs
        )
    return quality.Cleanup(dataset.trim_silence, dataset.normalize_loudness, dataset.target_lufs)


def convert(decoded: DecodedAudio, cleanup: quality.Cleanup, settings: Settings) -> Converted:
    """Measure the decoded audio, clean it and write the result to a temporary WAV."""
    metrics = quality.measure(decoded.samples, TARGET_RATE)
    if metrics.peak_dbfs < SILENT_PEAK_DBFS:
        raise BadInput(
            f"the clip is silent (its loudest sample is {metrics.peak_dbfs:g} dBFS); "
            "check that the microphone was on and upload the recording again"
        )
    samples = quality.clean(decoded.samples, TARGET_RATE, cleanup)
    duration = len(samples) / TARGET_RATE
    _check_length(duration, settings, " after trimming silence")
    wav = write_wav_temp(samples, TARGET_RATE, settings.data_dir / "tmp")
    return Converted(wav, duration, metrics)


def _check_length(seconds: float, settings: Settings, when: str) -> None:
    """Refuse clips shorter than the configured minimum."""
    if seconds < settings.min_clip_seconds:
        raise BadInput(
            f"the clip is {seconds:.2f} s{when}; clips must be at least "
            f"{settings.min_clip_seconds:g} s"
        )


def convert_and_keep(
    decoded: DecodedAudio, audio: BinaryIO, cleanup: quality.Cleanup, settings: Settings
) -> tuple[Converted, Path]:
    """The converted temporary WAV and a copy of the original, or neither when one fails."""
    converted = convert(decoded, cleanup, settings)
    try:
        return converted, keep_original(audio, settings)
    except BaseException:
        converted.wav.unlink(missing_ok=True)
        raise


def keep_original(audio: BinaryIO, settings: Settings) -> Path:
    """Copy the upload's bytes to a temporary file, to be kept under originals/."""
    audio.seek(0)
    kept = write_temp(
        settings.data_dir / "tmp",
        lambda handle: shutil.copyfileobj(audio, handle),
        suffix=".orig.part",
        sync=False,
    )
    audio.seek(0)
    return kept


def new_clip(dataset: Dataset, source: ClipSource) -> Clip:
    """A clip row for converted audio; the WAV name is chosen under the lock."""
    decoded, metrics = source.decoded, source.converted.metrics
    # Without a transcript the clip waits for ASR, out of metadata.csv until it has one.
    status = ClipStatus.READY if source.transcript else ClipStatus.TRANSCRIBING
    return Clip(
        dataset_id=dataset.id,
        wav_filename=layout.safe_stem(source.filename),
        transcript=source.transcript,
        status=status.value,
        duration_seconds=source.converted.duration_seconds,
        original_filename=Path(source.filename).name[:255] or "upload",
        original_format=decoded.source_format[:64],
        original_codec=decoded.source_codec[:64],
        original_sample_rate=decoded.source_rate,
        original_channels=decoded.source_channels,
        content_hash=source.content_hash,
        **vars(metrics),
    )


def commit_clip(
    *,
    session: Session,
    settings: Settings,
    dataset: Dataset,
    tmp: Path,
    clip: Clip,
    original: Path | None = None,
) -> Clip:
    """Move the WAV (and the original) into place and commit the row; all or nothing."""
    folder = layout.dataset_dir(settings.datasets_dir, dataset.name)
    wavs = folder / layout.WAVS_DIR
    wavs.mkdir(parents=True, exist_ok=True)
    clip.wav_filename = _unique_wav_name(session, dataset, wavs, clip.wav_filename)
    if original is not None:
        clip.original_file = Path(clip.wav_filename).stem + _suffix(clip.original_filename)
    session.add(clip)
    session.flush()
    placed = _place(tmp, wavs / clip.wav_filename, original, folder, clip.original_file)
    try:
        session.commit()
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        raise
    fsync_dir(wavs)
    return clip


def original_path(settings: Settings, dataset: str, clip: Clip) -> Path | None:
    """Where a clip's original upload is kept, if it was."""
    if not clip.original_file:
        return None
    return layout.dataset_dir(settings.datasets_dir, dataset) / ORIGINALS_DIR / clip.original_file


def _place(
    tmp: Path, wav: Path, original: Path | None, folder: Path, original_name: str | None
) -> list[Path]:
    """Move the converted WAV and the original into the dataset; the paths they took."""
    os.replace(tmp, wav)
    if original is None or original_name is None:
        return [wav]
    target = folder / ORIGINALS_DIR / original_name
    target.parent.mkdir(exist_ok=True)
    os.replace(original, target)
    return [wav, target]


def _suffix(filename: str) -> str:
    """The upload's extension when it is a plain one, for the kept original's name."""
    suffix = Path(filename).suffix.lower()
    return suffix if _SAFE_SUFFIX.fullmatch(suffix) else ".bin"


def _unique_wav_name(session: Session, dataset: Dataset, wavs: Path, stem: str) -> str:
    """stem.wav, or stem_2.wav, stem_3.wav... when taken by a row or a file."""
    taken = set(session.scalars(select(Clip.wav_filename).where(Clip.dataset_id == dataset.id)))
    candidate, n = f"{stem}.wav", 1
    while candidate in taken or (wavs / candidate).exists():
        n += 1
        candidate = f"{stem}_{n}.wav"
    return candidate
