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
class _Rebuild:
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
        items = [_rebuild_of(settings, name, clip) for clip in dataset.clips]
        # Commit before converting: the work below holds no database lock, only the dataset's.
        session.commit()
        results = _convert_all(settings, cleanup, items)
        rebuilt, kept = _apply(session, items, results)
        sync_dataset(session=session, settings=settings, dataset=dataset)
    return Rebuilt(name, cleanup, rebuilt, kept)


def _rebuild_of(settings: Settings, name: str, clip: Clip) -> _Rebuild:
    """The paths one clip's rebuild reads and writes."""
    wav = layout.dataset_dir(settings.datasets_dir, name) / layout.WAVS_DIR / clip.wav_filename
    return _Rebuild(clip.id, wav, ingest.original_path(settings, name, clip))


def _convert_all(
    settings: Settings, cleanup: quality.Cleanup, items: list[_Rebuild]
) -> list[ingest.Converted | str]:
    """Each clip converted anew on every core, or why it could not be."""

    def one(item: _Rebuild) -> ingest.Converted | str:
        if item.original is None or not item.original.is_file():
            return "no original was kept for this clip"
        try:
            decoded = ingest.decode_checked(item.original, settings)
            return ingest.convert(decoded, cleanup, settings)
        except VoicesmithError as exc:
            return exc.detail

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(one, items))


def _apply(
    session: Session, items: list[_Rebuild], results: list[ingest.Converted | str]
) -> tuple[int, dict[str, str]]:
    """Swap the new WAVs in and update their rows; clips that failed keep their old WAV."""
    rebuilt, kept = 0, {}
    for item, result in zip(items, results, strict=True):
        if isinstance(result, str):
            kept[item.wav.name] = result
            continue
        os.replace(result.wav, item.wav)
        clip = session.get(Clip, item.clip_id)
        if clip is not None:
            clip.duration_seconds = result.duration_seconds
            for key, value in vars(result.metrics).items():
                setattr(clip, key, value)
        rebuilt += 1
    session.commit()
    return rebuilt, kept
