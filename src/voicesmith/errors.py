"""Domain errors; app.py maps each to its HTTP status once."""


class VoicesmithError(Exception):
    """A failure a person can act on, carrying a human-readable detail."""

    status_code = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadInput(VoicesmithError):
    """The request was understood but its content is invalid."""

    status_code = 422


class Unauthorized(VoicesmithError):
    """No valid credentials were presented."""

    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(VoicesmithError):
    """The caller is known but may not do this."""

    status_code = 403


class NotFound(VoicesmithError):
    """The named thing does not exist."""

    status_code = 404


class Conflict(VoicesmithError):
    """The request clashes with the current state."""

    status_code = 409


class TooLarge(VoicesmithError):
    """The request body or an uploaded file is over its limit."""

    status_code = 413


class RateLimited(VoicesmithError):
    """Too many attempts; try again later."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class Unavailable(VoicesmithError):
    """Something the request needs exists but cannot be used right now."""

    status_code = 503
