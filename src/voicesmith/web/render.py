"""Rendering pages: Jinja2 templates (autoescaped), the session's CSRF token, and the CSP header."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from voicesmith.auth.models import User
from voicesmith.web import words
from voicesmith.web.session import SESSION_COOKIE, csrf_token_for

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
# Scripts come only from our own files: no inline <script>, no on* attributes, no eval.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
STATUS_LABELS = {
    "pending": "Pending",
    "training": "Training...",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A rendered template with the user, their CSRF token and the CSP header."""
    token = request.cookies.get(SESSION_COOKIE)
    base = {"user": user, "csrf": csrf_token_for(token) if token and user else ""}
    response = TEMPLATES.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
    response.headers["Content-Security-Policy"] = CSP
    return response


def fragment(request: Request, name: str, context: dict[str, Any]) -> str:
    """A template rendered to a string, for htmx swaps and for responses built by hand."""
    return TEMPLATES.get_template(name).render({"request": request, **context})


def html(content: str, status_code: int = 200) -> HTMLResponse:
    """An HTML fragment response carrying the CSP header."""
    return HTMLResponse(content, status_code, headers={"Content-Security-Policy": CSP})


def _minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal, for the datasets panel."""
    return f"{(seconds or 0) / 60:.1f}"


def _eta(seconds: float | None) -> str:
    """An ETA a person reads at a glance."""
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


TEMPLATES.env.filters["minutes"] = _minutes
TEMPLATES.env.filters["eta"] = _eta
TEMPLATES.env.filters["sentence"] = words.sentence
TEMPLATES.env.filters["voice_name"] = words.voice_name
TEMPLATES.env.filters["plural"] = words.plural
TEMPLATES.env.filters["estimate_words"] = words.estimate
TEMPLATES.env.globals["status_labels"] = STATUS_LABELS
TEMPLATES.env.globals["flag"] = words.flag
TEMPLATES.env.globals["flags_in"] = words.flags_in
TEMPLATES.env.globals["verdict"] = words.verdict
