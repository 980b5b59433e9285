"""Which voice a request means, and speaking text with it through the voice cache."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.auth import audit
from voicesmith.config import Settings
from voicesmith.engines import runfiles
from voicesmith.errors import BadInput, Conflict, NotFound, Unavailable
from voicesmith.synthesis import auditing, formats, sharing
from voicesmith.synthesis import text as texts
from voicesmith.synthesis.cache import VoiceCache
from voicesmith.synthesis.models import VoiceAlias
from voicesmith.synthesis.sharing import Audience
from voicesmith.synthesis.watermarking import Marker
from voicesmith.training.models import Job, JobStatus
from voicesmith.training.service import has_model

BASE_VOICE = "base"
PAUSE_SECONDS = 0.15


@dataclass(frozen=True)
class VoiceRef:
    """A resolved voice: where its model is, and which checkpoint."""

    name: str
    model_dir: Path
    checkpoint: Path | None = None
    job_id: str | None = None  # None for the base voice

    @property
    def key(self) -> str:
        """The cache key: one model file as it is now, one entry."""
        # Promoting a checkpoint re-points best_model.pth: the file's identity is in the key,
        # so a cached voice of the checkpoint promoted before is never served again.
        path = self.checkpoint or self.model_dir / runfiles.DEFAULT_CHECKPOINT
        try:
            info = path.stat()
        except OSError:
            return f"{self.model_dir}|{self.checkpoint or ''}"
        return f"{self.model_dir}|{self.checkpoint or ''}|{info.st_ino}:{info.st_mtime_ns}"


@dataclass(frozen=True)
class Speech:
    """Synthesized audio and what had to be left out of the text."""

    samples: np.ndarray
    sample_rate: int
    dropped: frozenset[str]
    backend: str


@dataclass(frozen=True)
class Audio:
    """Encoded speech: the whole file, or chunks that start with the first sentence."""

    media_type: str
    dropped: frozenset[str]
    backend: str
    content: bytes = b""
    chunks: Iterator[bytes] | None = None
    seconds: float | None = None  # known for whole audio only


def speak(
    *,
    session: Session | None,
    synth: "Synthesizer",
    audience: Audience,
    voices: Sequence[str],
    text: str,
    route: str,
    fmt: str = "wav",
    speed: float = 1.0,
    stream: bool = False,
) -> Audio:
    """Text as audio in the first of `voices` the audience may use; none named: the base voice."""
    ref = _speaking_voice(session=session, synth=synth, audience=audience, voices=voices, text=text)
    synth.check(text)
    if stream:
        audio = _streamed(synth, ref, text, fmt=fmt, speed=speed)
    else:
        speech = synth.speak(ref, text, speed=speed)
        audio = Audio(
            media_type=formats.MEDIA_TYPES[fmt],
            dropped=speech.dropped,
            backend=speech.backend,
            content=formats.encode(speech.samples, speech.sample_rate, fmt),
            seconds=len(speech.samples) / speech.sample_rate,
        )
    # Every answer is audited under `route`: a whole one now, a streamed one at its end.
    return auditing.audited(
        audio, session=session, synth=synth, ref=ref, audience=audience, route=route, text=text
    )


def _speaking_voice(
    *,
    session: Session | None,
    synth: "Synthesizer",
    audience: Audience,
    voices: Sequence[str],
    text: str,
) -> VoiceRef:
    """The voice a request names, or the base voice when it names none."""
    if not voices:
        # Bad text is refused before the base model is looked up, which may mean a download.
        synth.check(text)
        return base_voice(settings=synth.settings)
    assert session is not None, "a named voice is looked up in the database"
    ref = resolve_first(session=session, audience=audience, names=voices)
    session.commit()  # release the read transaction before the slow part
    return ref


def _streamed(synth: "Synthesizer", ref: VoiceRef, text: str, *, fmt: str, speed: float) -> Audio:
    """Audio that starts with the first sentence; WAV gets an open-ended header."""
    if fmt not in formats.STREAMABLE:
        raise BadInput(f"streaming supports {' and '.join(formats.STREAMABLE)}, not {fmt}")
    voice = synth.voice(ref)

    def chunks() -> Iterator[bytes]:
        if fmt == "wav":
            yield formats.streaming_wav_header(voice.sample_rate)
        offset = 0  # the signature continues across chunks, so the whole stream carries one
        for audio in synth.stream(ref, text, speed=speed):
            yield formats.to_pcm16(
                synth.marker.mark(audio, voice.sample_rate, ref.name, offset=offset)
            )
            offset += len(audio)

    return Audio(formats.MEDIA_TYPES[fmt], synth.dropped(ref, text), voice.backend, chunks=chunks())


def resolve_first(*, session: Session, audience: Audience, names: Sequence[str]) -> VoiceRef:
    """The first of the names that is a voice the audience may use; NotFound names the first."""
    for name in names:
        try:
            return resolve_voice(session=session, audience=audience, name=name)
        except NotFound:
            continue
    raise NotFound(f"voice '{names[0]}' does not exist; GET /api/v1/voices lists the voices")


def resolve_voice(*, session: Session, audience: Audience, name: str) -> VoiceRef:
    """A job id or alias as a voice; 404 when unknown or not shared, 409 when not completed."""
    alias = session.get(VoiceAlias, name)
    job_id = alias.job_id if alias else name
    job = session.get(Job, job_id)
    # Unshared reads exactly as unknown, so a plain user cannot learn which names exist.
    if job is None or not sharing.may_use(session=session, audience=audience, name=name):
        raise NotFound(f"voice '{name}' does not exist; GET /api/v1/voices lists the voices")
    if job.status != JobStatus.COMPLETED:
        raise Conflict(f"job '{job_id}' is {job.status}; it becomes a voice once it completes")
    if not has_model(job):
        raise Conflict(f"job '{job_id}' completed without a model; train it again")
    checkpoint = Path(job.output_dir) / alias.checkpoint if alias and alias.checkpoint else None
    return VoiceRef(name=name, model_dir=Path(job.output_dir), checkpoint=checkpoint, job_id=job.id)


def base_voice(*, settings: Settings) -> VoiceRef:
    """The configured base model as a voice, downloaded on first use."""
    from voicesmith.engines.base_models import EngineError, resolve_base_model

    spec = settings.default_base_model
    try:
        model = resolve_base_model(spec, settings.models_dir)
    except EngineError as exc:
        raise Unavailable(f"the base voice '{spec}' is unavailable: {exc}") from exc
    return VoiceRef(name=BASE_VOICE, model_dir=model.directory, checkpoint=model.checkpoint)


def set_alias(
    *,
    session: Session,
    alias: str,
    job_id: str,
    checkpoint: str | None,
    wyoming: bool | None = None,
) -> VoiceAlias:
    """Point an alias at a completed job (optionally one checkpoint); wyoming None keeps it."""
    _validate_alias(alias)
    ref = resolve_voice(session=session, audience=sharing.LOCAL, name=job_id)
    if checkpoint is not None and not _is_checkpoint_of(ref.model_dir, checkpoint):
        raise BadInput(f"'{checkpoint}' is not a checkpoint of job '{job_id}'")
    if session.get(Job, alias) is not None:
        raise Conflict(f"'{alias}' is a job id; pick another alias")
    row = session.get(VoiceAlias, alias) or VoiceAlias(alias=alias)
    row.job_id, row.checkpoint = job_id, checkpoint
    if wyoming is not None or row.wyoming is None:
        row.wyoming = bool(wyoming)
    session.add(row)
    session.commit()
    return row


def _validate_alias(alias: str) -> None:
    """Aliases share the dataset-name alphabet."""
    from voicesmith.datasets.service import DATASET_NAME_RE

    if not DATASET_NAME_RE.fullmatch(alias) or alias == BASE_VOICE:
        raise BadInput("alias may contain only letters, digits, '_' and '-' (1-64), not 'base'")


def _is_checkpoint_of(model_dir: Path, name: str) -> bool:
    """Whether name is a plain .pth file in the job dir."""
    return "/" not in name and name.endswith(".pth") and (model_dir / name).is_file()


def delete_alias(*, session: Session, alias: str, actor: str | None = None) -> None:
    """Remove an alias; the job stays, and the audit keeps who removed it."""
    row = session.get(VoiceAlias, alias)
    if row is None:
        raise NotFound(f"alias '{alias}' does not exist")
    session.delete(row)
    sharing.forget(session=session, name=alias)
    audit.record_admin(
        session=session,
        actor=actor,
        action=audit.Action.DELETE_ALIAS,
        voice=alias,
        job_id=row.job_id,
    )
    session.commit()


def publish_alias(*, session: Session, alias: str, wyoming: bool) -> VoiceAlias:
    """Serve an alias's voice over Wyoming, or stop serving it."""
    row = session.get(VoiceAlias, alias)
    if row is None:
        raise NotFound(f"alias '{alias}' does not exist")
    row.wyoming = wyoming
    session.commit()
    return row


def aliases_of(*, session: Session, job_id: str) -> list[str]:
    """The names a job's voice goes by."""
    query = select(VoiceAlias.alias).where(VoiceAlias.job_id == job_id).order_by(VoiceAlias.alias)
    return list(session.scalars(query))


class Synthesizer:
    """Speaks text with cached voices; one per app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache: VoiceCache = VoiceCache(
            max_items=settings.voice_cache_items, max_bytes=int(settings.voice_cache_mb * 2**20)
        )
        self.marker = Marker(settings)

    def voice(self, ref: VoiceRef):
        """The loaded voice, from the cache when it is there."""
        from voicesmith.engines.voice import VoiceError, load_voice

        def load():
            try:
                return load_voice(
                    ref.model_dir,
                    checkpoint=ref.checkpoint,
                    backend=self.settings.synthesis_backend,
                    threads=self.settings.synthesis_threads,
                    # PerTh marks each clip right after its run, on the same cores, and took
                    # twice as long beside spinning threads (benchmarks/watermark.py).
                    spin=not self.marker.uses_perth,
                )
            except VoiceError as exc:
                raise Unavailable(f"voice '{ref.name}' could not be loaded: {exc}") from exc

        return self.cache.get(ref.key, load)

    def speak(self, ref: VoiceRef, text: str, *, speed: float) -> Speech:
        """The whole text as one array, sentences joined by short pauses."""
        voice = self.voice(ref)
        parts = list(self.stream(ref, text, speed=speed))
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        samples = self.marker.mark(samples, voice.sample_rate, ref.name)
        return Speech(samples, voice.sample_rate, self.dropped(ref, text), voice.backend)

    def check(self, text: str) -> str:
        """Normalised text, or BadInput."""
        return texts.normalise(text, max_chars=self.settings.max_synthesis_chars)

    def stream(self, ref: VoiceRef, text: str, *, speed: float) -> Iterator[np.ndarray]:
        """Audio sentence by sentence, each followed by a short pause."""
        voice = self.voice(ref)
        pause = np.zeros(int(PAUSE_SECONDS * voice.sample_rate), dtype=np.float32)
        for sentence in texts.sentences(self.check(text)):
            audio = voice.synthesize(sentence, length_scale=1.0 / speed)
            if len(audio):
                yield np.concatenate([audio.astype(np.float32, copy=False), pause])

    def dropped(self, ref: VoiceRef, text: str) -> frozenset[str]:
        """Characters of text the voice cannot say."""
        return frozenset(self.voice(ref).unknown_characters(self.check(text)))
