"""Clip transcripts from ASR: filling in missing ones, checking users' ones, accepting ASR's."""

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core import text
from voicesmith.datasets import layout
from voicesmith.datasets.editing import clip_or_404
from voicesmith.datasets.models import Clip, ClipStatus
from voicesmith.datasets.service import sync_dataset, validate_transcript
from voicesmith.engines import asr
from voicesmith.errors import BadInput, Conflict, VoicesmithError

log = logging.getLogger("voicesmith.asr")


@dataclass(frozen=True)
class Target:
    """A clip waiting for ASR: its id, its dataset and its WAV."""

    clip_id: int
    dataset: str
    wav: Path


def needs_asr(*, session: Session) -> list[int]:
    """Ids of clips not yet recognised: waiting for a transcript or for their check."""
    query = select(Clip.id).where(
        or_(
            Clip.status == ClipStatus.TRANSCRIBING.value,
            (Clip.status == ClipStatus.READY.value)
            & Clip.asr_text.is_(None)
            & Clip.asr_detail.is_(None),
        )
    )
    ids = list(session.scalars(query.order_by(Clip.id)))
    session.commit()
    return ids


def recognise_clips(*, session: Session, settings: Settings, clip_ids: list[int]) -> None:
    """Recognise each clip in turn; one clip's failure is recorded on it and the rest go on."""
    for clip_id in clip_ids:
        recognise_clip(session=session, settings=settings, clip_id=clip_id)


def recognise_clip(*, session: Session, settings: Settings, clip_id: int) -> None:
    """Transcribe a clip without a transcript, or check the one its user gave."""
    target = _target(session, settings, clip_id)
    if target is None:
        return
    try:
        heard: asr.Recognition | str = asr.recognise(settings, target.wav)
    except VoicesmithError as exc:
        heard = exc.detail
    except Exception as exc:  # a broken model or file must fail the clip, never leave it waiting
        log.exception("ASR failed on clip %s", clip_id)
        heard = f"speech recognition failed: {type(exc).__name__}: {exc}"
    _store(session, settings, target, heard)


def _target(session: Session, settings: Settings, clip_id: int) -> Target | None:
    """The clip to recognise, if it still exists and has not been recognised yet."""
    clip = session.get(Clip, clip_id)
    pending = clip is not None and (
        clip.status == ClipStatus.TRANSCRIBING
        or (clip.status == ClipStatus.READY and clip.asr_text is None and clip.asr_detail is None)
    )
    target = None
    if pending:
        name = clip.dataset.name
        wav = layout.dataset_dir(settings.datasets_dir, name) / layout.WAVS_DIR / clip.wav_filename
        target = Target(clip.id, name, wav)
    session.commit()  # no transaction stays open while the model runs
    return target


def _store(
    session: Session, settings: Settings, target: Target, heard: "asr.Recognition | str"
) -> None:
    """Record what ASR heard (or why it could not) and re-render the dataset."""
    with layout.dataset_lock(settings.data_dir / "locks", target.dataset):
        clip = session.get(Clip, target.clip_id)
        if clip is None:
            session.commit()
            return
        if isinstance(heard, str):
            _failed(clip, heard)
        else:
            apply(clip, heard, settings)
        # One commit, at the report's refresh: nobody sees the clip ready before metadata.csv
        # lists it.
        sync_dataset(session=session, settings=settings, dataset=clip.dataset)


def _failed(clip: Clip, detail: str) -> None:
    """ASR could not run: a clip waiting for a transcript fails; a user's clip stays ready."""
    clip.asr_detail = detail
    if clip.status == ClipStatus.TRANSCRIBING:
        clip.status = ClipStatus.FAILED.value


def apply(clip: Clip, heard: asr.Recognition, settings: Settings) -> None:
    """Set a clip's transcript from ASR, or compare its user transcript with what ASR heard."""
    clip.asr_text, clip.asr_confidence, clip.asr_detail = heard.text, heard.confidence, None
    if clip.status == ClipStatus.TRANSCRIBING:
        try:
            clip.transcript = _usable(heard.text, settings)
        except BadInput as exc:
            clip.status, clip.asr_detail = ClipStatus.FAILED.value, exc.detail
            return
        clip.status, clip.transcript_source = ClipStatus.READY.value, "asr"
    clip.cer = round(text.cer(clip.transcript, heard.text), 4)


def _usable(heard: str, settings: Settings) -> str:
    """ASR's text as a transcript, or BadInput when it heard nothing."""
    if not text.normalize(heard):
        raise BadInput(asr.NO_SPEECH)
    return validate_transcript(heard, max_chars=settings.max_transcript_chars)


def accept_asr(*, session: Session, settings: Settings, name: str, clip: str) -> Clip:
    """Replace a clip's transcript with what ASR heard."""
    with layout.dataset_lock(settings.data_dir / "locks", name):
        row = clip_or_404(session=session, name=name, clip=clip)
        if row.asr_text is None:
            session.commit()
            raise Conflict(f"clip '{clip}' has not been recognised yet; try again shortly")
        try:
            row.transcript = _usable(row.asr_text, settings)
        except BadInput as exc:
            session.commit()
            raise Conflict(f"cannot use what ASR heard in '{clip}': {exc.detail}") from exc
        row.status, row.transcript_source, row.cer = ClipStatus.READY.value, "asr", 0.0
        row.asr_detail, row.reviewed = None, True
        session.commit()
        sync_dataset(session=session, settings=settings, dataset=row.dataset)
    return row
