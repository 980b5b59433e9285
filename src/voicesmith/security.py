"""Response security headers, and credential files that only the service's user can read."""

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicesmith.config import Settings

# JSON, audio and files are never rendered as pages, so they may load and frame nothing.
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PRIVATE_MODE = 0o600


class SecurityHeadersMiddleware:
    """Add nosniff, frame denial and a CSP to every response that lacks its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in {**ALWAYS, "Content-Security-Policy": STRICT_CSP}.items():
                    # Pages set their own CSP (web/render.py, /docs in openapi.py); theirs is kept.
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


def create_private_files(settings: Settings) -> None:
    """Create the SQLite files as 0600 before SQLite or Huey creates them with the umask's mode."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    paths = [] if settings.queue_url else [settings.data_dir / "queue.db"]
    database = _sqlite_path(settings.resolved_database_url)
    if database is not None:
        paths.append(database)
    for path in paths:
        create_private(path)


def create_private(path: Path) -> None:
    """Create path empty with mode 0600 if it is missing (SQLite gives its WAL the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    except FileExistsError:
        return


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
