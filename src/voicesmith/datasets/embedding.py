"""Speaker embeddings of stored clips, made in the background on the analysis (ASR) queue."""

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import layout, report
from voicesmith.datasets.models import Clip, Dataset
from voicesmith.engines import speaker
from voicesmith.errors import VoicesmithError

log = logging.getLogger("voicesmith.speaker")
# Clips embedded between two report refreshes: a refresh reads the whole dataset, so one
# per clip would make a large import quadratic; 16 keeps the report close behind.
BATCH = 16


@dataclass(frozen=True)
class Target:
    """A clip waiting for its embedding: its id, its dataset and its WAV."""

    clip_id: int
    dataset: str
    wav: Path


@dataclass(frozen=True)
class Outcome:
    """One clip's embedding, or why it has none."""

    clip_id: int
    dataset: str
    embedding: bytes | None
    detail: str | None


def needs_embedding(*, session: Session) -> list[int]:
    """Ids of clips with neither an embedding nor a reason for having none."""
    query = select(Clip.id).where(Clip.speaker_embedding.is_(None), Clip.speaker_detail.is_(None))
    ids = list(session.scalars(query.order_by(Clip.id)))
    session.commit()
    return ids


def embed_clips(*, session: Session, settings: Settings, clip_ids: list[int]) -> None:
    """Embed the clips in batches, refreshing each touched dataset's report after each batch."""
    for start in range(0, len(clip_ids), BATCH):
        targets = _targets(session, settings, clip_ids[start : start + BATCH])
        try:
            outcomes = [_embed(target) for target in targets]
        except speaker.SpeakerUnavailable as exc:
            # Left waiting, not failed: a worker with the encoder installed picks them up.
            log.warning("%d clip(s) left without speaker embeddings: %s", len(clip_ids), exc)
            return
        _store(session, settings, outcomes)


def _targets(session: Session, settings: Settings, clip_ids: list[int]) -> list[Target]:
    """The clips among these still waiting; no transaction stays open while the model runs."""
    query = (
        select(Clip.id, Dataset.name, Clip.wav_filename)
        .join(Clip.dataset)
        .where(Clip.id.in_(clip_ids), Clip.speaker_embedding.is_(None))
        .where(Clip.speaker_detail.is_(None))
        .order_by(Clip.id)
    )
    rows = list(session.execute(query).tuples())
    session.commit()
    return [Target(cid, name, _wav(settings, name, wav)) for cid, name, wav in rows]


def _wav(settings: Settings, dataset: str, filename: str) -> Path:
    """Where a dataset's clip lives."""
    return layout.dataset_dir(settings.datasets_dir, dataset) / layout.WAVS_DIR / filename


def _embed(target: Target) -> Outcome:
    """One clip's outcome; a file that cannot be embedded is named, never left waiting."""
    try:
        vector = speaker.embed_file(target.wav)
        return Outcome(target.clip_id, target.dataset, speaker.to_bytes(vector), None)
    except speaker.SpeakerUnavailable:
        raise
    except VoicesmithError as exc:
        return Outcome(target.clip_id, target.dataset, None, exc.detail)
    except Exception as exc:  # a broken file must not stall the queue or the rest of the batch
        log.exception("speaker embedding failed on clip %s", target.clip_id)
        detail = f"embedding failed: {type(exc).__name__}: {exc}"
        return Outcome(target.clip_id, target.dataset, None, detail)


def _store(session: Session, settings: Settings, outcomes: list[Outcome]) -> None:
    """Save the outcomes and refresh each touched dataset's report, under its lock."""
    for name in dict.fromkeys(o.dataset for o in outcomes):
        with layout.dataset_lock(settings.data_dir / "locks", name):
            dataset = None
            for outcome in (o for o in outcomes if o.dataset == name):
                clip = session.get(Clip, outcome.clip_id)
                if clip is None:  # deleted while it was being embedded
                    continue
                clip.speaker_embedding, clip.speaker_detail = outcome.embedding, outcome.detail
                dataset = clip.dataset
            session.commit()
            if dataset is not None:
                report.refresh(session=session, settings=settings, dataset=dataset)
