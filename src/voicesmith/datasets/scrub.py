"""The start-up scrub: after a crash, files without rows and rows without files go away."""

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import ingest, layout
from voicesmith.datasets.models import Clip, Dataset
from voicesmith.datasets.service import render_metadata, sync_dataset

log = logging.getLogger("voicesmith.scrub")


@dataclass
class ScrubReport:
    """What the scrub removed, by kind, as paths relative to the data dir or clip names."""

    tmp: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many things were removed."""
        return len(self.tmp) + len(self.files) + len(self.rows)


def scrub(*, session: Session, settings: Settings, keep: set[str]) -> ScrubReport:
    """Remove what an interrupted upload or import left behind, and re-render metadata.csv.

    keep names the entries of tmp/ that queued or running work will still read.
    """
    report = ScrubReport()
    report.tmp = _clear_tmp(settings, keep=keep)
    for dataset in list(session.scalars(select(Dataset).order_by(Dataset.id))):
        with layout.dataset_lock(settings.data_dir / "locks", dataset.name):
            _scrub_dataset(session, settings, dataset, report)
    if report.total:
        log.warning("start-up scrub removed %d leftovers of an interrupted write", report.total)
    return report


def _clear_tmp(settings: Settings, *, keep: set[str]) -> list[str]:
    """Remove tmp/ entries older than the grace period, except recordings imports wait on."""
    tmp = settings.data_dir / "tmp"
    if not tmp.is_dir():
        return []
    cutoff = time.time() - settings.scrub_tmp_min_age_seconds
    removed = []
    for entry in sorted(tmp.iterdir()):
        if entry.name not in keep and entry.lstat().st_mtime <= cutoff:
            _remove(entry)
            removed.append(str(entry.relative_to(settings.data_dir)))
    return removed


def _scrub_dataset(
    session: Session, settings: Settings, dataset: Dataset, report: ScrubReport
) -> None:
    """Reconcile one dataset's folder with its rows; call with the dataset lock held."""
    folder = layout.dataset_dir(settings.datasets_dir, dataset.name)
    clips = list(session.scalars(select(Clip).where(Clip.dataset_id == dataset.id)))
    wavs = folder / layout.WAVS_DIR
    missing = [c for c in clips if not (wavs / c.wav_filename).is_file()]
    if missing:
        session.execute(delete(Clip).where(Clip.id.in_([c.id for c in missing])))
        session.commit()
        report.rows += [f"{dataset.name}/{c.wav_filename}" for c in missing]
    kept = [c for c in clips if c not in missing]
    report.files += _remove_unlisted(settings, wavs, {c.wav_filename for c in kept})
    originals = folder / ingest.ORIGINALS_DIR
    report.files += _remove_unlisted(settings, originals, {c.original_file for c in kept})
    report.files += _remove_parts(settings, folder)
    if missing:
        sync_dataset(session=session, settings=settings, dataset=dataset)
    else:
        # A crash between committing rows and rendering leaves metadata.csv behind the rows.
        render_metadata(session=session, settings=settings, dataset=dataset)


def _remove_unlisted(settings: Settings, folder: Path, listed: set[str | None]) -> list[str]:
    """Delete the files of folder that no row names."""
    if not folder.is_dir():
        return []
    removed = []
    for entry in sorted(folder.iterdir()):
        if entry.name not in listed:
            _remove(entry)
            removed.append(str(entry.relative_to(settings.data_dir)))
    return removed


def _remove_parts(settings: Settings, folder: Path) -> list[str]:
    """Delete the temporary '.part' files an atomic write left when it was killed."""
    removed = []
    for entry in sorted(folder.rglob("*.part")) if folder.is_dir() else []:
        _remove(entry)
        removed.append(str(entry.relative_to(settings.data_dir)))
    return removed


def _remove(path: Path) -> None:
    """Delete a file, link or folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
