"""HTML pages: login and logout, the Admin Dashboard's tabs, a dataset, a job, the playground."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from voicesmith.auth import service as auth_service
from voicesmith.auth.models import Role, User
from voicesmith.config import Settings
from voicesmith.datasets import editing
from voicesmith.datasets import service as datasets_service
from voicesmith.datasets.schemas import ClipOut
from voicesmith.deps import SessionDep, SettingsDep
from voicesmith.errors import NotFound, RateLimited, Unauthorized
from voicesmith.synthesis import catalog
from voicesmith.synthesis import service as synthesis_service
from voicesmith.synthesis.sharing import audience_of
from voicesmith.training import consent as consent_service
from voicesmith.training import service as training_service
from voicesmith.web import audit, consent, datasets, estimates, jobs, people
from voicesmith.web.render import page
from voicesmith.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ActionUser,
    PageAdmin,
    PageUser,
    new_login_csrf,
    safe_next,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
for _sub in (
    datasets.router,
    jobs.router,
    estimates.router,
    people.router,
    audit.router,
    consent.router,
):
    router.include_router(_sub)
CLIPS_PER_PAGE = 100
LOGIN_CSRF_SECONDS = 3600


@router.get("/")
def home(user: PageUser) -> RedirectResponse:
    """Admins land on the dashboard, everyone else on the playground."""
    return RedirectResponse("/admin" if user.role == Role.ADMIN.value else "/playground", 303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form, with a fresh double-submit CSRF token."""
    return _login_form(request, next_path=safe_next(next), error="", status_code=200)


def _login_form(
    request: Request, *, next_path: str, error: str, status_code: int, username: str = ""
) -> Response:
    """Render the login form, keeping the username typed, and set its CSRF cookie."""
    token = new_login_csrf()
    context = {"login_csrf": token, "next": next_path, "error": error, "username": username}
    response = page(request, "login.html", context, status_code=status_code)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_SECONDS)
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Check the credentials and start a session cookie holding a fresh API token."""
    next_path = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        error = "the login form expired; please try again"
        return _login_form(
            request, next_path=next_path, error=error, status_code=403, username=username
        )
    try:
        issued = auth_service.login(
            session=session, settings=settings, username=username, password=password
        )
    except (Unauthorized, RateLimited) as exc:
        return _login_form(
            request,
            next_path=next_path,
            error=exc.detail,
            status_code=exc.status_code,
            username=username,
        )
    response = RedirectResponse(next_path, 303)
    set_cookie(response, request, SESSION_COOKIE, issued.access_token, _ttl(settings))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _ttl(settings: Settings) -> int:
    """The cookie's lifetime in seconds: the token's."""
    return int(settings.token_ttl_hours * 3600)


@router.post("/logout")
def logout(request: Request, session: SessionDep, _user: ActionUser) -> RedirectResponse:
    """Revoke the session's token and drop the cookie."""
    auth_service.revoke_token(session=session, token=request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin")
def admin_home(_admin: PageAdmin) -> RedirectResponse:
    """The dashboard opens on its Training tab."""
    return RedirectResponse("/admin/training", 303)


@router.get("/admin/training")
def training_tab(
    request: Request, session: SessionDep, settings: SettingsDep, admin: PageAdmin
) -> Response:
    """Uploads, the datasets, the training form and the jobs."""
    context = {
        "tab": "training",
        "datasets": datasets_service.list_datasets(session=session),
        "jobs": training_service.list_jobs(session=session),
        "default_base_model": settings.default_base_model,
        "voices": catalog.list_voices(session=session, audience=audience_of(admin)),
    }
    return page(request, "training.html", context, user=admin)


@router.get("/admin/voices")
def voices_tab(request: Request, session: SessionDep, admin: PageAdmin) -> Response:
    """The playground plus the aliases."""
    context = {"tab": "voices", **people.voices_context(session, admin)}
    return page(request, "voices.html", context, user=admin)


@router.get("/admin/users")
def users_tab(request: Request, session: SessionDep, admin: PageAdmin) -> Response:
    """Every user, with create, delete and role controls."""
    users = auth_service.list_users(session=session)
    return page(request, "users.html", {"tab": "users", "users": users}, user=admin)


@router.get("/admin/datasets/{name}/review")
def review_page(request: Request, name: str, session: SessionDep, admin: PageAdmin) -> Response:
    """The clips to look at: both transcripts side by side, a player, accept, edit or delete."""
    try:
        clips = editing.flagged_clips(session=session, name=name)
    except NotFound as exc:
        return _not_found(request, admin, exc)
    context = {"tab": "training", "name": name, "clips": [ClipOut.of(c) for c in clips]}
    return page(request, "review.html", context, user=admin)


@router.get("/admin/datasets/{name}")
def dataset_page(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    admin: PageAdmin,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """A dataset's warnings and clip table: players, transcripts, flags, delete and export."""
    try:
        report = editing.quality_report(session=session, settings=settings, name=name)
        total, clips = editing.clip_page(
            session=session, name=name, offset=offset, limit=CLIPS_PER_PAGE
        )
    except NotFound as exc:
        return _not_found(request, admin, exc)
    context = {
        "tab": "training",
        "name": name,
        "total": total,
        "totals": report["totals"],
        "warnings": report["warnings"],
        "offset": offset,
        "limit": CLIPS_PER_PAGE,
        "clips": [ClipOut.of(c) for c in clips],
        "consent_record": consent_service.current(session=session, dataset_name=name),
        "consent_mode": settings.consent,
    }
    return page(request, "dataset.html", context, user=admin)


@router.get("/admin/jobs/{job_id}")
def job_page(request: Request, job_id: str, session: SessionDep, admin: PageAdmin) -> Response:
    """A job's progress, loss chart, samples, log and controls."""
    try:
        job = training_service.get_job(session=session, job_id=job_id)
    except NotFound as exc:
        return _not_found(request, admin, exc)
    context = {
        "tab": "training",
        "job": job,
        "params": dict(job.params or {}),
        "can_resume": training_service.can_resume(job),
        "aliases": synthesis_service.aliases_of(session=session, job_id=job.id),
        "speaker_clip": _first_clip(session, job.dataset_name),
    }
    return page(request, "job.html", context, user=admin)


def _first_clip(session: Session, name: str) -> str | None:
    """A clip of the dataset a job trained on, to hear beside its samples; none once deleted."""
    try:
        _total, clips = editing.clip_page(session=session, name=name, offset=0, limit=1)
    except NotFound:
        return None
    return clips[0].wav_filename if clips else None


@router.get("/playground")
def playground(request: Request, session: SessionDep, user: PageUser) -> Response:
    """Pick a voice, type, press Speak; open to every logged-in user."""
    context = {"tab": "playground", **people.voices_context(session, user)}
    return page(request, "playground.html", context, user=user)


def _not_found(request: Request, user: User, exc: NotFound) -> Response:
    """A 404 page that says what is missing."""
    return page(
        request,
        "error.html",
        {"heading": "Not found", "message": exc.detail},
        user=user,
        status_code=404,
    )
