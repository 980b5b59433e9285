"""ASGI middleware that refuses oversized bodies before anything buffers them."""

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Multipart framing and the text fields ride along with the audio part.
MULTIPART_SLACK_BYTES = 1024 * 1024
DEFAULT_BODY_LIMIT = 1024 * 1024
# The HTTP parser (httptools) takes headers of any size; browsers send a few KB.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_COUNT = 100


class BodyTooLarge(HTTPException):
    """Raised from receive() once a body passes its limit."""

    def __init__(self, limit: int) -> None:
        # An HTTPException, because FastAPI turns any other error while parsing into a 400.
        super().__init__(413, _too_large_detail(limit))


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length up front or by counting as they stream."""

    def __init__(self, app: ASGIApp, *, upload_limits: dict[str, int]) -> None:
        self.app = app
        self.upload_limits = {p: n + MULTIPART_SLACK_BYTES for p, n in upload_limits.items()}

    def limit_for(self, path: str) -> int:
        """The byte limit for a request path: uploads get theirs, everything else 1 MB."""
        return self.upload_limits.get(path.rstrip("/"), DEFAULT_BODY_LIMIT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _headers_too_large(scope):
            await _send_error(send, 431, _HEADERS_DETAIL, scope["path"])
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_413(send, limit, scope["path"])
            return
        await self._guarded(scope, receive, send, limit)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the app with a receive() that stops counting at the limit."""
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_413(send, limit, scope["path"])


def _content_length(scope: Scope) -> int | None:
    """The declared Content-Length, if there is a valid one."""
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


_HEADERS_DETAIL = (
    f"the request headers are over {MAX_HEADER_BYTES // 1024} KB or {MAX_HEADER_COUNT} fields; "
    "send fewer or shorter headers"
)


def _headers_too_large(scope: Scope) -> bool:
    """Whether the request's headers are past what any real client sends."""
    headers = scope.get("headers", [])
    size = sum(len(key) + len(value) for key, value in headers)
    return len(headers) > MAX_HEADER_COUNT or size > MAX_HEADER_BYTES


async def _send_413(send: Send, limit: int, path: str) -> None:
    """Answer 413 with a detail naming the limit."""
    await _send_error(send, 413, _too_large_detail(limit), path)


async def _send_error(send: Send, status: int, detail: str, path: str) -> None:
    """Answer with a detail (in OpenAI's error shape on its routes), before the app runs."""
    code = str(status)
    shaped = {"message": detail, "type": "invalid_request_error", "param": None, "code": code}
    body = json.dumps({"error": shaped} if path.startswith("/v1/") else {"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _too_large_detail(limit: int) -> str:
    """What to tell someone whose body was too large."""
    return f"request body is over the {limit / 2**20:.3g} MB limit; send a smaller file"
