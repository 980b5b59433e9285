"""A job's frozen copy of its dataset: hard links to the WAVs, its own metadata.csv, a manifest."""

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicesmith.config import Settings
from voicesmith.core.files import atomic_write_text, link_or_copy
from voicesmith.datasets import layout
from voicesmith.db import utcnow
from voicesmith.engines.runfiles import SNAPSHOT_DIR, SNAPSHOT_MANIFEST


@dataclass(frozen=True)
class ClipRow:
    """What the snapshot records of one clip, read while its row was current."""

    id: int
    file: str
    transcript: str
    content_hash: str | None


def freeze(*, settings: Settings, job_dir: Path, dataset: str, clips: list[ClipRow]) -> Path:
    """Copy the dataset as it is now into job_dir/dataset; call with the dataset lock held."""
    source = layout.dataset_dir(settings.datasets_dir, dataset) / layout.WAVS_DIR
    target = job_dir / SNAPSHOT_DIR
    shutil.rmtree(target, ignore_errors=True)
    (target / layout.WAVS_DIR).mkdir(parents=True)
    # Edits replace WAVs with new files (os.replace), so a hard link keeps this version.
    entries = [_entry(source, target / layout.WAVS_DIR, clip) for clip in clips]
    layout.render_metadata(target / layout.METADATA_FILE, [(c.file, c.transcript) for c in clips])
    manifest = {"dataset": dataset, "taken_at": utcnow().isoformat(), "clips": entries}
    atomic_write_text(target / SNAPSHOT_MANIFEST, json.dumps(manifest, indent=1))
    return target


def _entry(source: Path, wavs: Path, clip: ClipRow) -> dict[str, Any]:
    """Link one WAV into the snapshot and describe it."""
    link_or_copy(source / clip.file, wavs / clip.file)
    with (wavs / clip.file).open("rb") as handle:
        wav_hash = hashlib.file_digest(handle, "sha256").hexdigest()
    return {
        "id": clip.id,
        "file": clip.file,
        "transcript": clip.transcript,
        "content_hash": clip.content_hash,
        "wav_sha256": wav_hash,
    }


def dataset_dir(*, settings: Settings, job_dir: Path, dataset: str) -> Path:
    """The folder a job trains on: its snapshot, or the live dataset for jobs from before."""
    frozen = job_dir / SNAPSHOT_DIR
    if (frozen / layout.METADATA_FILE).is_file():
        return frozen
    return layout.dataset_dir(settings.datasets_dir, dataset)
