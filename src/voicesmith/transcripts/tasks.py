"""Huey tasks for speech recognition and speaker embeddings, on their own queue.

Thin wrappers that pass ids on. Both kinds of clip analysis share the queue and its one
consumer thread, so neither ever waits behind a training job.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from huey.api import Huey
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.config import Settings
from voicesmith.db import session_scope

if TYPE_CHECKING:
    from huey.consumer import Consumer

TRANSCRIBE_TASK = "voicesmith.transcribe"
LONG_IMPORT_TASK = "voicesmith.import_long"
EMBED_TASK = "voicesmith.embed_speakers"
log = logging.getLogger("voicesmith.asr")


@dataclass
class AsrContext:
    """What an ASR worker needs: settings, a database and a stop signal."""

    settings: Settings
    sessions: sessionmaker[Session]
    stop_event: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Enqueue:
    """The functions that put ASR and speaker work on the queue."""

    transcribe: Callable[[list[int]], object]
    long_import: Callable[[int], object]
    embed: Callable[[list[int]], object]

    def analyse(self, clip_ids: list[int]) -> None:
        """Queue new clips for their speaker embedding and for speech recognition."""
        # Embedding first: it is several times faster than ASR (benchmarks/quality.py), so
        # speaker outliers show up without waiting for a large batch to be recognised.
        self.embed(clip_ids)
        self.transcribe(clip_ids)


def register(
    huey: Huey, context: Callable[[], AsrContext | None], *, speaker: bool = True
) -> Enqueue:
    """Register the ASR tasks on huey and return the functions that enqueue them.

    Without `speaker` (VOICESMITH_SPEAKER_EMBEDDINGS off) nothing is queued for embedding.
    """

    def ctx() -> AsrContext:
        found = context()
        if found is None:
            raise RuntimeError("this process runs no ASR worker; run `voicesmith worker`")
        return found

    @huey.task(name=TRANSCRIBE_TASK)
    def transcribe(clip_ids: list[int]) -> None:
        from voicesmith.transcripts import service

        found = ctx()
        with session_scope(found.sessions) as session:
            service.recognise_clips(session=session, settings=found.settings, clip_ids=clip_ids)

    @huey.task(name=EMBED_TASK)
    def embed(clip_ids: list[int]) -> None:
        from voicesmith.datasets import embedding

        found = ctx()
        with session_scope(found.sessions) as session:
            embedding.embed_clips(session=session, settings=found.settings, clip_ids=clip_ids)

    queue_embed = _unless_empty(embed) if speaker else _nothing

    @huey.task(name=LONG_IMPORT_TASK)
    def long_import(import_id: int) -> None:
        from voicesmith.datasets import embedding
        from voicesmith.transcripts import longform

        found = ctx()
        with session_scope(found.sessions) as session:
            longform.run_import(session=session, settings=found.settings, import_id=import_id)
            # The cut clips come with what ASR heard, but not yet with their speaker.
            waiting = embedding.needs_embedding(session=session)
        queue_embed(waiting)

    return Enqueue(transcribe=_unless_empty(transcribe), long_import=long_import, embed=queue_embed)


def _unless_empty(task: Callable[[list[int]], object]) -> Callable[[list[int]], object]:
    """Enqueue only when there are clips to work on."""
    return lambda ids: task(list(ids)) if ids else None


def _nothing(clip_ids: list[int]) -> None:
    """Queue nothing: the work is switched off."""


def start_context(
    *, settings: Settings, sessions: sessionmaker[Session], enqueue: Enqueue
) -> AsrContext:
    """An ASR worker context, after queueing the work a stopped worker left unfinished."""
    from voicesmith.datasets import embedding
    from voicesmith.transcripts import longform, service

    with session_scope(sessions) as session:
        leftover = service.needs_asr(session=session)
        imports = longform.unfinished(session=session)
        # Also every clip stored before speaker embeddings existed, or while they were off.
        unembedded = embedding.needs_embedding(session=session)
    if unembedded and settings.speaker_embeddings:
        log.info("queueing %d clip(s) left waiting for a speaker embedding", len(unembedded))
        enqueue.embed(unembedded)
    if leftover:
        log.info("queueing %d clip(s) left waiting for speech recognition", len(leftover))
        enqueue.transcribe(leftover)
    for import_id in imports:
        enqueue.long_import(import_id)
    return AsrContext(settings=settings, sessions=sessions)


def enqueuer(settings: Settings) -> Enqueue:
    """Enqueue functions for a process that only submits work (the CLI)."""
    from voicesmith.queue import ASR_QUEUE_NAME, build_huey

    huey = build_huey(settings, ASR_QUEUE_NAME)
    return register(huey, lambda: None, speaker=settings.speaker_embeddings)


def start_consumer(*, settings: Settings, sessions: sessionmaker[Session]) -> "Consumer":
    """Run speech recognition in this process beside its training consumer; returns it."""
    from voicesmith.queue import ASR_QUEUE_NAME, build_huey, start_embedded_consumer

    huey = build_huey(settings, ASR_QUEUE_NAME)
    holder: list[AsrContext] = []
    enqueue = register(
        huey, lambda: holder[0] if holder else None, speaker=settings.speaker_embeddings
    )
    holder.append(start_context(settings=settings, sessions=sessions, enqueue=enqueue))
    return start_embedded_consumer(huey, holder[0].stop_event)
