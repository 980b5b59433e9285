"""One way into a dataset: lock it, create it if missing, commit the clips, sync it once."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import ingest, layout
from voicesmith.datasets.models import Clip, Dataset
from voicesmith.datasets.service import get_or_create_dataset, sync_dataset


@dataclass(frozen=True)
class Prepared:
    """A converted clip and its original, waiting in tmp/ to be committed."""

    source: ingest.ClipSource
    original: Path

    def discard(self) -> None:
        """Remove whatever of the temporary files was not moved into the dataset."""
        self.source.converted.wav.unlink(missing_ok=True)
        self.original.unlink(missing_ok=True)


@dataclass(frozen=True)
class StoredClips:
    """The clips a store committed, and the dataset's re-rendered metadata.csv."""

    clips: list[Clip]
    metadata: Path


# A dataset's new clip rows, each with its prepared files.
ClipRows = Callable[[Dataset], Iterator[tuple[Clip, Prepared]]]


def new_rows(prepared: list[Prepared]) -> ClipRows:
    """Each prepared clip as a new row, as an upload stores it."""
    return lambda dataset: ((ingest.new_clip(dataset, item.source), item) for item in prepared)


def store_clips(*, session: Session, settings: Settings, name: str, rows: ClipRows) -> StoredClips:
    """Lock the dataset, create it if missing, commit each clip, then sync the dataset once.

    `rows` yields each clip's row with its files; it resumes after that clip is committed.
    """
    with layout.dataset_lock(settings.data_dir / "locks", name):
        dataset = get_or_create_dataset(session=session, settings=settings, name=name)
        clips = [
            ingest.commit_clip(
                session=session,
                settings=settings,
                dataset=dataset,
                tmp=item.source.converted.wav,
                clip=clip,
                original=item.original,
            )
            for clip, item in rows(dataset)
        ]
        metadata = sync_dataset(session=session, settings=settings, dataset=dataset)
    return StoredClips(clips, metadata)
