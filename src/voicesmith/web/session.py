"""The browser session: an HttpOnly cookie holding an API token, and CSRF tokens derived from it."""

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from voicesmith.auth.models import Role, User
from voicesmith.auth.service import user_for_token
from voicesmith.db import session_scope
from voicesmith.deps import SessionDep
from voicesmith.errors import Forbidden, Unauthorized

SESSION_COOKIE = "voicesmith_session"
LOGIN_CSRF_COOKIE = "voicesmith_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class LoginRequired(Exception):
    """A page was asked for without a live session; the handler redirects to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class AdminRequired(Exception):
    """A non-admin asked for an admin page; the handler renders a 403 page."""

    def __init__(self, user: User) -> None:
        super().__init__(user.username)
        self.user = user


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session: an HMAC keyed by the session token nobody else can read."""
    return hmac.new(session_token.encode(), b"voicesmith-csrf", hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    """A random token for the login form, double-submitted as a cookie and a field."""
    return secrets.token_urlsafe(24)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set an HttpOnly, SameSite=Strict cookie, Secure when served over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def _user_or_none(request: Request, session: Session) -> User | None:
    """The user behind the session cookie, or None when there is no live session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        user = user_for_token(session=session, token=token)
    except Unauthorized:
        return None
    session.commit()  # end the read transaction now, as deps.get_current_user does
    return user


def page_user(request: Request, session: SessionDep) -> User:
    """The logged-in user of a page, else a redirect to /login."""
    user = _user_or_none(request, session)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def page_admin(user: Annotated[User, Depends(page_user)]) -> User:
    """The logged-in admin of a page, else a 403 page."""
    if user.role != Role.ADMIN.value:
        raise AdminRequired(user)
    return user


async def action_user(request: Request, session: SessionDep) -> User:
    """The user behind a request a page's script or form sends, with its CSRF token checked."""
    user = _user_or_none(request, session)
    if user is None:
        raise Unauthorized("your session has ended; log in again")
    if request.method not in SAFE_METHODS:
        sent = await _sent_csrf(request)
        expected = csrf_token_for(request.cookies[SESSION_COOKIE])
        if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Forbidden("the page is out of date (CSRF check failed); reload it and retry")
    return user


def stream_admin(request: Request) -> User:
    """An admin check for long streams: its session closes before the stream starts."""
    with session_scope(request.app.state.sessionmaker) as session:
        user = _user_or_none(request, session)
        if user is None:
            raise Unauthorized("your session has ended; log in again")
        if user.role != Role.ADMIN.value:
            raise Forbidden("this needs an admin account")
        return user


def action_admin(user: Annotated[User, Depends(action_user)]) -> User:
    """Like action_user, for admins only."""
    if user.role != Role.ADMIN.value:
        raise Forbidden("this needs an admin account")
    return user


async def _sent_csrf(request: Request) -> str:
    """The CSRF token from the X-CSRF-Token header, or from a form's csrf_token field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def safe_next(path: str | None) -> str:
    """A same-site path to go to after logging in; anything else becomes /."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def login_url(next_path: str) -> str:
    """/login remembering where to go afterwards."""
    return "/login" if next_path in ("", "/") else f"/login?next={quote(next_path, safe='/')}"


PageUser = Annotated[User, Depends(page_user)]
PageAdmin = Annotated[User, Depends(page_admin)]
ActionUser = Annotated[User, Depends(action_user)]
ActionAdmin = Annotated[User, Depends(action_admin)]
StreamAdmin = Annotated[User, Depends(stream_admin)]
