"""Domain errors; app.py maps each to its HTTP status once."""

import errno
import os


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


class InsufficientStorage(VoicesmithError):
    """The disk (or a file size limit) ran out while storing something."""

    status_code = 507


# ENOSPC: the disk is full; EFBIG: a file size limit (RLIMIT_FSIZE); EDQUOT: a quota.
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def storage_error(exc: BaseException) -> InsufficientStorage | None:
    """The 507 for an error caused by running out of storage, found along its cause chain."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno in _STORAGE_ERRNOS:
            return InsufficientStorage(
                f"the server ran out of storage while saving ({os.strerror(seen.errno)}); "
                "nothing was stored: free some disk space, or ask the admin to, and retry"
            )
        if "database or disk is full" in str(seen):
            return InsufficientStorage(
                "the database ran out of storage; nothing was stored: free disk space and retry"
            )
        seen = seen.__cause__ or seen.__context__
    return None
