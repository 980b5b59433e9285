"""Changing a dataset's clean-up settings and rebuilding its WAVs from the kept originals."""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import ingest, layout, quality
from voicesmith.datasets.models import Clip
from voicesmith.datasets.service import get_or_create_dataset, sync_dataset, validate_dataset_name
from voicesmith.errors import VoicesmithError


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild changed, and the clips it left as they were, with the reason."""

    dataset: str
    cleanup: quality.Cleanup
    rebuilt: int
    kept: dict[str, str]


@dataclass(frozen=True)
class _Job:
    """One clip to rebuild: its row, its WAV and its original."""

    clip_id: int
    wav: Path
    original: Path | None


def set_cleanup(
    *, session: Session, settings: Settings, name: str, cleanup: quality.Cleanup
) -> Rebuilt:
    """Store the dataset's clean-up settings and rebuild every clip from its original."""
    name = validate_dataset_name(name)
    with layout.dataset_lock(settings.data_dir / "locks", name):
        dataset = get_or_create_dataset(session=session, settings=settings, name=name)
        dataset.trim_silence = cleanup.trim_silence
        dataset.normalize_loudness = cleanup.normalize_loudness
        dataset.target_lufs = cleanup.target_lufs
        jobs = [_job(settings, name, clip) for clip in dataset.clips]
        # Commit before converting: the work below holds no database lock, only the dataset's.
        session.commit()
        results = _convert_all(settings, cleanup, jobs)
        rebuilt, kept = _apply(session, jobs, results)
        sync_dataset(session=session, settings=settings, dataset=dataset)
    return Rebuilt(name, cleanup, rebuilt, kept)


def _job(settings: Settings, name: str, clip: Clip) -> _Job:
    """The paths one clip's rebuild reads and writes."""
    wav = layout.dataset_dir(settings.datasets_dir, name) / layout.WAVS_DIR / clip.wav_filename
    return _Job(clip.id, wav, ingest.original_path(settings, name, clip))


def _convert_all(
    settings: Settings, cleanup: quality.Cleanup, jobs: list[_Job]
) -> list[ingest.Converted | str]:
    """Each clip converted anew on every core, or why it could not be."""

    def one(job: _Job) -> ingest.Converted | str:
        if job.original is None or not job.original.is_file():
            return "no original was kept for this clip"
        try:
            decoded = ingest.decode_checked(job.original, settings)
            return ingest.convert(decoded, cleanup, settings)
        except VoicesmithError as exc:
            return exc.detail

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(one, jobs))


def _apply(
    session: Session, jobs: list[_Job], results: list[ingest.Converted | str]
) -> tuple[int, dict[str, str]]:
    """Swap the new WAVs in and update their rows; clips that failed keep their old WAV."""
    rebuilt, kept = 0, {}
    for job, result in zip(jobs, results, strict=True):
        if isinstance(result, str):
            kept[job.wav.name] = result
            continue
        os.replace(result.wav, job.wav)
        clip = session.get(Clip, job.clip_id)
        if clip is not None:
            clip.duration_seconds = result.duration_seconds
            for key, value in vars(result.metrics).items():
                setattr(clip, key, value)
        rebuilt += 1
    session.commit()
    return rebuilt, kept
