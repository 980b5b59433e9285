"""Each synthesis in the audit trail: who spoke which voice and checkpoint, by which route."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from voicesmith.auth import audit
from voicesmith.engines import runfiles
from voicesmith.synthesis import formats
from voicesmith.synthesis.sharing import Audience

if TYPE_CHECKING:
    from voicesmith.synthesis.service import Audio, Synthesizer, VoiceRef

PCM_WIDTH = 2  # 16-bit samples, what every streamed format carries


@dataclass(frozen=True)
class Entry:
    """What the audit row of one synthesis says, but the audio's length."""

    actor: str | None
    route: str
    voice: str
    job_id: str | None
    checkpoint: str | None
    text: str
    keep_text: bool
    detail: dict[str, Any]

    def write(self, session: Session, seconds: float | None) -> None:
        """The row, in one small committed INSERT."""
        audit.record_synthesis(
            session=session,
            actor=self.actor,
            route=self.route,
            voice=self.voice,
            job_id=self.job_id,
            checkpoint=self.checkpoint,
            text=self.text,
            seconds=seconds,
            keep_text=self.keep_text,
            detail=self.detail,
        )


def audited(
    audio: "Audio",
    *,
    session: Session | None,
    synth: "Synthesizer",
    ref: "VoiceRef",
    audience: Audience,
    route: str,
    text: str,
) -> "Audio":
    """The audio, its audit row written now (whole) or once its stream has ended."""
    assert session is not None, "every synthesis is audited: every caller passes a session"
    streaming = audio.chunks is not None
    found = entry(
        ref=ref,
        audience=audience,
        route=route,
        text=text,
        keep_text=synth.settings.audit_text,
        format=_format(audio.media_type),
        backend=audio.backend,
        stream=streaming,
    )
    if audio.chunks is None:
        found.write(session, audio.seconds)
        return audio
    wav = audio.media_type == formats.MEDIA_TYPES["wav"]
    chunks = streamed(
        audio.chunks,
        engine=session.get_bind(),  # type: ignore[arg-type]
        entry=found,
        rate=synth.voice(ref).sample_rate,
        header=len(formats.streaming_wav_header(1)) if wav else 0,
    )
    return replace(audio, chunks=chunks)


def _format(media_type: str) -> str:
    """The format a media type was asked as ('ogg' for Ogg/Opus)."""
    return next(name for name, kind in formats.MEDIA_TYPES.items() if kind == media_type)


def entry(
    *, ref: "VoiceRef", audience: Audience, route: str, text: str, keep_text: bool, **detail: Any
) -> Entry:
    """The audit entry of speaking text with a resolved voice."""
    return Entry(
        actor=audience.username,
        route=route,
        voice=ref.name,
        job_id=ref.job_id,
        checkpoint=checkpoint_of(ref),
        text=text,
        keep_text=keep_text,
        detail=detail,
    )


def checkpoint_of(ref: "VoiceRef") -> str:
    """The checkpoint a voice speaks with: a pinned file, else the promoted one and its step."""
    if ref.checkpoint is not None:
        return ref.checkpoint.name
    promoted = runfiles.read_scores(ref.model_dir).get("promoted") if ref.job_id else None
    if promoted is None:
        return runfiles.DEFAULT_CHECKPOINT
    return f"{runfiles.DEFAULT_CHECKPOINT} (step {promoted})"


def streamed(
    chunks: Iterator[bytes], *, engine: Engine, entry: Entry, rate: int, header: int
) -> Iterator[bytes]:
    """The chunks as they are; once the last is out (or the client left), the audit row."""
    sent = 0
    complete = False
    try:
        for chunk in chunks:
            sent += len(chunk)
            yield chunk
        complete = True
    finally:
        # The request's session has closed by now: a short one of its own writes the row.
        seconds = max(sent - header, 0) / PCM_WIDTH / rate
        row = entry if complete else _cut_short(entry)
        with Session(engine) as session:
            row.write(session, seconds)


def _cut_short(entry: Entry) -> Entry:
    """The entry of a stream the client stopped reading."""
    return Entry(**{**entry.__dict__, "detail": {**entry.detail, "complete": False}})
