"""Huey tasks for speech recognition, on their own queue: thin wrappers that pass ids on."""

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
log = logging.getLogger("voicesmith.asr")


@dataclass
class AsrContext:
    """What an ASR worker needs: settings, a database and a stop signal."""

    settings: Settings
    sessions: sessionmaker[Session]
    stop_event: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Enqueue:
    """The functions that put ASR work on the queue."""

    transcribe: Callable[[list[int]], object]
    long_import: Callable[[int], object]


def register(huey: Huey, context: Callable[[], AsrContext | None]) -> Enqueue:
    """Register the ASR tasks on huey and return the functions that enqueue them."""

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

    @huey.task(name=LONG_IMPORT_TASK)
    def long_import(import_id: int) -> None:
        from voicesmith.transcripts import longform

        found = ctx()
        with session_scope(found.sessions) as session:
            longform.run_import(session=session, settings=found.settings, import_id=import_id)

    return Enqueue(transcribe=_unless_empty(transcribe), long_import=long_import)


def _unless_empty(task: Callable[[list[int]], object]) -> Callable[[list[int]], object]:
    """Enqueue only when there is something to recognise."""
    return lambda ids: task(list(ids)) if ids else None


def start_context(
    *, settings: Settings, sessions: sessionmaker[Session], enqueue: Enqueue
) -> AsrContext:
    """An ASR worker context, after queueing the work a stopped worker left unfinished."""
    from voicesmith.transcripts import longform, service

    with session_scope(sessions) as session:
        leftover = service.needs_asr(session=session)
        imports = longform.unfinished(session=session)
    if leftover:
        log.info("queueing %d clip(s) left waiting for speech recognition", len(leftover))
        enqueue.transcribe(leftover)
    for import_id in imports:
        enqueue.long_import(import_id)
    return AsrContext(settings=settings, sessions=sessions)


def enqueuer(settings: Settings) -> Enqueue:
    """Enqueue functions for a process that only submits work (the CLI)."""
    from voicesmith.queue import ASR_QUEUE_NAME, build_huey

    return register(build_huey(settings, ASR_QUEUE_NAME), lambda: None)


def start_consumer(*, settings: Settings, sessions: sessionmaker[Session]) -> "Consumer":
    """Run speech recognition in this process beside its training consumer; returns it."""
    from voicesmith.queue import ASR_QUEUE_NAME, build_huey, start_embedded_consumer

    huey = build_huey(settings, ASR_QUEUE_NAME)
    holder: list[AsrContext] = []
    enqueue = register(huey, lambda: holder[0] if holder else None)
    holder.append(start_context(settings=settings, sessions=sessions, enqueue=enqueue))
    return start_embedded_consumer(huey, holder[0].stop_event)
