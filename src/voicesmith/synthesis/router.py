"""Speech routes: the seed's synthesize-trained, the base voice, voices and aliases."""

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from voicesmith.deps import CurrentUser, SessionDep, SettingsDep, require_admin
from voicesmith.errors import BadInput
from voicesmith.synthesis import formats, service
from voicesmith.synthesis.service import Synthesizer, VoiceRef

router = APIRouter(prefix="/api/v1", tags=["synthesis"])
admin_router = APIRouter(
    prefix="/api/v1/admin/voices", tags=["voices"], dependencies=[Depends(require_admin)]
)
Format = Literal["wav", "mp3", "ogg", "opus", "flac", "pcm"]


class SpeakRequest(BaseModel):
    """Text to speak with the base voice."""

    text: str = Field(max_length=1_000_000)
    format: Format = "wav"
    speed: float = Field(
        default=1.0, ge=0.25, le=4.0, description="speaking rate; 2 is twice as fast"
    )
    stream: bool = Field(default=False, description="send audio sentence by sentence (wav, pcm)")


class TrainedSpeakRequest(SpeakRequest):
    """The seed's body: text and the job (or alias) whose voice speaks it."""

    job_id: str = Field(max_length=256)


class AliasRequest(BaseModel):
    """Which job, and optionally which of its checkpoints, an alias names."""

    job_id: str = Field(max_length=256)
    checkpoint: str | None = Field(default=None, max_length=255)


def synthesizer(request: Request) -> Synthesizer:
    """The app's synthesizer and voice cache."""
    return request.app.state.synthesizer


SynthDep = Annotated[Synthesizer, Depends(synthesizer)]


@router.post("/synthesize-trained", response_class=Response)
def synthesize_trained(
    body: TrainedSpeakRequest, _user: CurrentUser, session: SessionDep, synth: SynthDep
) -> Response:
    """Speak text in a trained voice; any logged-in user may."""
    ref = service.resolve_voice(session=session, name=body.job_id)
    session.commit()  # release the read transaction before the slow part
    return speak(synth, ref, body)


@router.post("/synthesize", response_class=Response)
def synthesize_base(
    body: SpeakRequest, _user: CurrentUser, settings: SettingsDep, synth: SynthDep
) -> Response:
    """Speak text with the configured base model."""
    # Bad text is refused before the base model is looked up, which may mean a download.
    synth.check(body.text)
    return speak(synth, service.base_voice(settings=settings), body)


def speak(synth: Synthesizer, ref: VoiceRef, body: SpeakRequest) -> Response:
    """The audio response for a request, whole or streamed."""
    synth.check(body.text)
    if body.stream:
        return _streamed(synth, ref, body)
    speech = synth.speak(ref, body.text, speed=body.speed)
    content = formats.encode(speech.samples, speech.sample_rate, body.format)
    return Response(
        content,
        media_type=formats.MEDIA_TYPES[body.format],
        headers=_headers(speech.dropped, speech.backend),
    )


def _streamed(synth: Synthesizer, ref: VoiceRef, body: SpeakRequest) -> StreamingResponse:
    """Audio that starts with the first sentence; WAV gets an open-ended header."""
    if body.format not in formats.STREAMABLE:
        raise BadInput(f"streaming supports {' and '.join(formats.STREAMABLE)}, not {body.format}")
    voice = synth.voice(ref)

    def chunks():
        if body.format == "wav":
            yield formats.streaming_wav_header(voice.sample_rate)
        for audio in synth.stream(ref, body.text, speed=body.speed):
            yield formats.to_pcm16(audio)

    headers = _headers(synth.dropped(ref, body.text), voice.backend)
    return StreamingResponse(chunks(), media_type=formats.MEDIA_TYPES[body.format], headers=headers)


def _headers(dropped: frozenset[str], backend: str) -> dict[str, str]:
    """Response headers: the engine used, and the characters left out (as code points)."""
    headers = {"X-Voicesmith-Backend": backend}
    if dropped:
        points = " ".join(f"U+{ord(c):04X}" for c in sorted(dropped))
        headers["X-Voicesmith-Dropped-Characters"] = points
    return headers


@router.get("/voices")
def voices(_user: CurrentUser, session: SessionDep, settings: SettingsDep) -> dict[str, object]:
    """Every voice that can speak: completed jobs, their aliases, and the base voice."""
    return {
        "status": "ok",
        "base_voice": settings.default_base_model,
        "voices": service.list_voices(session=session),
    }


@admin_router.get("/cache")
def cache_stats(synth: SynthDep) -> dict[str, object]:
    """What the voice cache holds and how often it was hit."""
    cache = synth.cache
    return {
        "status": "ok",
        "items": len(cache),
        "bytes": cache.total_bytes(),
        **asdict(cache.stats),
    }


@admin_router.put("/{alias}")
def put_alias(alias: str, body: AliasRequest, session: SessionDep) -> dict[str, object]:
    """Name a completed job's voice, optionally pinning one of its checkpoints."""
    row = service.set_alias(
        session=session, alias=alias, job_id=body.job_id, checkpoint=body.checkpoint
    )
    return {"status": "ok", "alias": row.alias, "job_id": row.job_id, "checkpoint": row.checkpoint}


@admin_router.delete("/{alias}")
def delete_alias(alias: str, session: SessionDep) -> dict[str, str]:
    """Remove an alias; the job's voice stays."""
    service.delete_alias(session=session, alias=alias)
    return {"status": "deleted", "alias": alias}
