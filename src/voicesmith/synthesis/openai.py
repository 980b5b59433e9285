"""OpenAI-compatible POST /v1/audio/speech, so existing apps and SDKs can use our voices."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from voicesmith.deps import CurrentUser, SessionDep
from voicesmith.errors import NotFound
from voicesmith.synthesis import service
from voicesmith.synthesis.router import SpeakRequest, SynthDep, speak

router = APIRouter(prefix="/v1", tags=["openai"])


class SpeechRequest(BaseModel):
    """OpenAI's speech body; `voice` (or else `model`) names a voice or alias."""

    model: str = Field(default="tts-1", max_length=256)
    input: str = Field(max_length=1_000_000)
    voice: str = Field(max_length=256)
    response_format: Literal["wav", "mp3", "opus", "flac", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)


@router.post("/audio/speech", response_class=Response)
def speech(
    body: SpeechRequest, _user: CurrentUser, session: SessionDep, synth: SynthDep
) -> Response:
    """Speak `input` in the named voice, as OpenAI's API does."""
    ref = _resolve(session, body)
    session.commit()
    request = SpeakRequest(text=body.input, format=body.response_format, speed=body.speed)
    return speak(synth, ref, request)


def _resolve(session, body: SpeechRequest) -> service.VoiceRef:
    """The voice named by `voice`, else by `model` (for clients that only let you set one)."""
    try:
        return service.resolve_voice(session=session, name=body.voice)
    except NotFound:
        try:
            return service.resolve_voice(session=session, name=body.model)
        except NotFound:
            raise NotFound(
                f"voice '{body.voice}' does not exist; GET /api/v1/voices lists the voices"
            ) from None


def openai_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse | None:
    """OpenAI's error shape for /v1/ routes; None for every other path."""
    if not request.url.path.startswith("/v1/"):
        return None
    kind = "authentication_error" if status == 401 else "invalid_request_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}
    return JSONResponse(body, status_code=status, headers=headers)
