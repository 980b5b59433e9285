"""HTTP pieces shared by the speech routes and the playground: the synthesizer, audio answers."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response, StreamingResponse

from voicesmith.synthesis.service import Audio, Synthesizer


def synthesizer(request: Request) -> Synthesizer:
    """The app's synthesizer and voice cache."""
    return request.app.state.synthesizer


SynthDep = Annotated[Synthesizer, Depends(synthesizer)]


async def route_name(request: Request) -> str:
    """The route a request came by, as the audit names it: 'POST /v1/audio/speech'."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


RouteName = Annotated[str, Depends(route_name)]


def audio_response(audio: Audio) -> Response:
    """Spoken audio, whole or streamed, with headers naming the engine and what was left out."""
    headers = _headers(audio.dropped, audio.backend)
    if audio.chunks is not None:
        return StreamingResponse(audio.chunks, media_type=audio.media_type, headers=headers)
    return Response(audio.content, media_type=audio.media_type, headers=headers)


def _headers(dropped: frozenset[str], backend: str) -> dict[str, str]:
    """Response headers: the engine used, and the characters left out (as code points)."""
    headers = {"X-Voicesmith-Backend": backend}
    if dropped:
        points = " ".join(f"U+{ord(c):04X}" for c in sorted(dropped))
        headers["X-Voicesmith-Dropped-Characters"] = points
    return headers
