"""Voices published on the Wyoming server: which they are, and speaking text with one."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.auth.audit import WYOMING
from voicesmith.engines.runfiles import model_language
from voicesmith.errors import NotFound
from voicesmith.synthesis import service, sharing
from voicesmith.synthesis.models import VoiceAlias
from voicesmith.training.models import Job, JobStatus
from voicesmith.training.service import has_model


@dataclass(frozen=True)
class PublishedVoice:
    """A voice an admin published over Wyoming, as Home Assistant lists it."""

    name: str
    job_id: str
    language: str
    description: str


@dataclass(frozen=True)
class PublishedSpeech:
    """16-bit mono PCM, sentence by sentence, and its sample rate."""

    voice: str
    rate: int
    chunks: Iterator[bytes]


def published_voices(*, session: Session) -> list[PublishedVoice]:
    """Aliases marked for Wyoming, shared with everyone, whose job is a completed voice."""
    query = select(VoiceAlias).where(VoiceAlias.wyoming.is_(True)).order_by(VoiceAlias.alias)
    voices = []
    for row in session.scalars(query):
        job = session.get(Job, row.job_id)
        if job is None or job.status != JobStatus.COMPLETED or not has_model(job):
            continue  # a deleted or retrained job is no voice; the alias stays for the admin
        if not sharing.may_use(session=session, audience=sharing.ANYONE, name=row.alias):
            continue  # Wyoming has no users: only voices shared with everyone are heard
        voices.append(_published(row, job))
    return voices


def _published(row: VoiceAlias, job: Job) -> PublishedVoice:
    """One published alias with its language and a description a person can read."""
    pinned = f", checkpoint {row.checkpoint}" if row.checkpoint else ""
    return PublishedVoice(
        name=row.alias,
        job_id=job.id,
        language=_locale(model_language(Path(job.output_dir))),
        description=f"{row.alias}: dataset {job.dataset_name}, job {job.id}{pinned}",
    )


def _locale(language: str) -> str:
    """'en-us' as 'en_US', the way Piper voices name their language for Home Assistant."""
    base, _, region = language.replace("_", "-").partition("-")
    return f"{base.lower()}_{region.upper()}" if region else base.lower()


def published_name(*, session: Session, name: str | None) -> str:
    """The published voice a request names; none named: the first published voice."""
    names = [voice.name for voice in published_voices(session=session)]
    if name is None and names:
        return names[0]
    if name is None:
        raise NotFound(
            "no voice is published over Wyoming; PUT /api/v1/admin/voices/{alias} "
            "with wyoming: true, and PUT .../{alias}/sharing with mode 'everyone', publishes one"
        )
    if name not in names:
        raise NotFound(
            f"voice '{name}' is not published over Wyoming; an admin publishes it with "
            f"PUT /api/v1/admin/voices/{name} and wyoming: true, shared with everyone"
        )
    return name


def speak_published(
    *, sessions: sessionmaker[Session], synth: service.Synthesizer, name: str | None, text: str
) -> PublishedSpeech:
    """Text in a published voice as PCM chunks; each chunk is synthesized when it is read."""
    with sessions() as session:
        voice = published_name(session=session, name=name)
        ref = service.resolve_voice(session=session, audience=sharing.ANYONE, name=voice)
        audio = service.speak(
            session=session,
            synth=synth,
            audience=sharing.ANYONE,
            voices=(voice,),
            text=text,
            route=WYOMING,
            fmt="pcm",
            stream=True,
        )
    assert audio.chunks is not None, "a streamed answer has chunks"
    return PublishedSpeech(voice=voice, rate=synth.voice(ref).sample_rate, chunks=audio.chunks)
