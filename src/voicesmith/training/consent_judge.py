"""Judging a consent recording: the statement and its one-time phrase, what ASR heard, who spoke.

The speaker rule (docs/API.md): the recording's embedding is compared with the dataset's
speaker centroid (datasets.speakers: the mean of the clips' embeddings, outliers left out).
It passes when its similarity is at least the 10th percentile of the clips' own leave-one-out
similarities, less MARGIN: as close to the dataset's speaker as the dataset's own clips are.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core import text
from voicesmith.datasets import embedding, speakers
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.engines import asr, speaker
from voicesmith.errors import Conflict

# fmt: off
# Words tiny.en heard right each of three times espeak-ng read them in a statement (of 80).
WORDS = [
    "apple", "candle", "carpet", "castle", "circle", "coffee", "dragon", "falcon", "finger",
    "forest", "guitar", "hammer", "harbor", "kitchen", "marble", "monkey", "mountain", "music",
    "orange", "paper", "pilot", "planet", "purple", "rainbow", "ribbon", "robot", "rocket",
    "salad", "sugar", "summer", "sunset", "table", "tiger", "tomato", "turtle", "wagon", "water",
    "window", "winter", "yellow",
]
# fmt: on
# No numbers: tiny.en heard "three" as "free", "nine" as "dine", "eleven" as "lemon", and the
# date's day would count as one. Even these words are misheard now and then ("jacket" as
# "packet"), so one of the code's four may be missed: a replayed recording's code shares three
# of a new code's words about once in 630 tries (145 of the C(40, 4) codes), each audited.
CODE_WORDS = 4
MAY_MISS = 1
# Below the 10th percentile of the dataset's own clips: a longer recording in another room
# scores a little lower than clips of one session. espeak-ng en-us clips scored 0.86-0.94
# against the others, its reading of a statement 0.97, the +f3 voice reading it 0.70.
PERCENTILE = 10
MARGIN = 0.05
# Clips embedded now, in the request, when the queue has not embedded enough of them yet.
REFERENCE_CLIPS = 20
MIN_REFERENCE = 3


@dataclass(frozen=True)
class Reference:
    """The dataset's speaker: its centroid and the similarity a recording needs."""

    centroid: np.ndarray
    threshold: float


@dataclass(frozen=True)
class Verdict:
    """A recording judged: verified or why not, and the figures behind it."""

    code: str | None
    reason: str | None
    heard: str | None = None
    cer: float | None = None
    similarity: float | None = None
    threshold: float | None = None

    @property
    def status(self) -> str:
        """verified, or rejected with a reason."""
        return "verified" if self.code is None else "rejected"


def draw_phrase() -> str:
    """A one-time phrase: CODE_WORDS different words, drawn by `secrets`."""
    pool = list(WORDS)
    return " ".join(pool.pop(secrets.randbelow(len(pool))) for _ in range(CODE_WORDS))


def statement(speaker_name: str, organisation: str, day: datetime, phrase: str) -> str:
    """The statement the speaker reads aloud; commas make the code's words heard one by one."""
    return (
        f"I, {speaker_name}, agree that {organisation} may create a synthetic voice from my "
        f"recordings. Today is {day.day} {day:%B %Y}. My code is {phrase.replace(' ', ', ')}."
    )


def reference(*, session: Session, settings: Settings, dataset: Dataset) -> Reference:
    """The dataset's speaker, embedding a few of its clips now if the queue has not yet."""
    speaker.load()  # SpeakerUnavailable (503) here, before any clip is touched
    clips = _ready_clips(session, dataset)
    embedded = sum(c.speaker_embedding is not None for c in clips)
    waiting = [c.id for c in clips if c.speaker_embedding is None and c.speaker_detail is None]
    if embedded < REFERENCE_CLIPS and waiting:
        wanted = waiting[: REFERENCE_CLIPS - embedded]
        embedding.embed_clips(session=session, settings=settings, clip_ids=wanted)
        session.expire_all()
        clips = _ready_clips(session, dataset)
    found = speakers.analyse(clips)
    session.commit()  # no transaction stays open while the models run
    if found.embedded < MIN_REFERENCE or found.centroid is None:
        raise Conflict(
            f"dataset '{dataset.name}' has {found.embedded} clip(s) whose speaker could be "
            f"measured; consent needs at least {MIN_REFERENCE} to compare the recording with: "
            "upload more clips of the speaker"
        )
    own = [s for cid, s in found.similarity.items() if cid not in found.outliers]
    threshold = float(np.percentile(own, PERCENTILE)) - MARGIN
    return Reference(found.centroid, round(threshold, 4))


def _ready_clips(session: Session, dataset: Dataset) -> list[Clip]:
    """The dataset's ready clips."""
    query = select(Clip).where(Clip.dataset_id == dataset.id, Clip.status == ClipStatus.READY)
    return list(session.scalars(query.order_by(Clip.id)))


def judge(settings: Settings, wav: Path, expected: str, phrase: str, ref: Reference) -> Verdict:
    """Who speaks and what they say, in that order: a stranger fails before their words count."""
    heard = asr.recognise(settings, wav).text.strip()
    try:
        similarity = round(speaker.cosine(speaker.embed_file(wav), ref.centroid), 4)
    except speaker.Unembeddable as exc:
        similarity = None
        if heard:  # words, but too little voice to say whose
            return Verdict("no_speech", f"too little speech to tell who is speaking: {exc.detail}")
    if not heard:
        return Verdict("no_speech", "no speech was heard; record the statement read aloud")
    cer = round(text.cer(expected, heard), 4)
    figures = {"heard": heard, "cer": cer, "similarity": similarity, "threshold": ref.threshold}
    if similarity is None or similarity < ref.threshold:
        return Verdict("other_speaker", _other_speaker(similarity, ref), **figures)
    if cer > settings.consent_max_cer:
        return Verdict("wrong_text", _wrong_text(cer, settings, heard), **figures)
    if not phrase_heard(phrase, heard):
        return Verdict("phrase_missing", _phrase_missing(phrase, heard), **figures)
    return Verdict(None, None, **figures)


def _other_speaker(similarity: float | None, ref: Reference) -> str:
    """Why a recording's speaker is not the dataset's."""
    return (
        f"the voice is not the dataset's speaker: similarity {similarity} is below "
        f"{ref.threshold}, the least the dataset's own clips reach; the speaker of the clips "
        "must record the statement"
    )


def _wrong_text(cer: float, settings: Settings, heard: str) -> str:
    """Why a recording does not read the statement."""
    return (
        f"the recording does not read the statement: its character error rate is {cer:.2f}, "
        f"above {settings.consent_max_cer:g}; heard: {heard!r}. Read the whole statement "
        "clearly and record again"
    )


def _phrase_missing(phrase: str, heard: str) -> str:
    """Why a recording without this challenge's phrase fails."""
    return (
        f"the one-time code '{phrase}' was not heard (heard: {heard!r}); an older recording "
        "cannot be reused: read this challenge's statement, code included"
    )


def phrase_heard(phrase: str, heard: str) -> bool:
    """Whether all but MAY_MISS of the phrase's words are among ASR's, each a letter off at most."""
    wanted, words = phrase.split(), _words(heard)
    found = sum(any(_close(w, h) for h in words) for w in wanted)
    return found >= len(wanted) - MAY_MISS


def _close(wanted: str, heard: str) -> bool:
    """One word heard as another: exact for short words, one edit off for longer ones."""
    return text.edit_distance(wanted, heard) <= (1 if len(wanted) >= 5 else 0)


def _words(said: str) -> list[str]:
    """Normalised words, digits split off (ASR glues them on: "yellow17")."""
    return text.normalize(re.sub(r"\d+", " ", said)).split()
