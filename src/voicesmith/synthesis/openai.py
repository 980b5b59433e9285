"""OpenAI-compatible POST /v1/audio/speech, so existing apps and SDKs can use our voices."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from voicesmith.deps import CurrentUser, SessionDep
from voicesmith.synthesis import service, sharing
from voicesmith.synthesis.http import RouteName, SynthDep, audio_response
from voicesmith.synthesis.schemas import SpeechRequest

router = APIRouter(prefix="/v1", tags=["openai"])


@router.post("/audio/speech", response_class=Response)
def speech(
    body: SpeechRequest, user: CurrentUser, session: SessionDep, synth: SynthDep, route: RouteName
) -> Response:
    """Speak `input` in the named voice, as OpenAI's API does; unshared voices are 404."""
    audio = service.speak(
        session=session,
        synth=synth,
        audience=sharing.audience_of(user),
        # Some clients only let you set `model`, so it names the voice when `voice` does not.
        voices=(body.voice, body.model),
        text=body.input,
        route=route,
        fmt=body.response_format,
        speed=body.speed,
    )
    return audio_response(audio)


def openai_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse | None:
    """OpenAI's error shape for /v1/ routes; None for every other path."""
    if not request.url.path.startswith("/v1/"):
        return None
    kind = "authentication_error" if status == 401 else "invalid_request_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}
    return JSONResponse(body, status_code=status, headers=headers)
