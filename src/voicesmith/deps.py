"""Annotated dependency aliases shared by every router."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from voicesmith.auth.models import Role, User
from voicesmith.auth.service import user_for_token
from voicesmith.config import Settings
from voicesmith.db import is_read_only
from voicesmith.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login")


# Dependencies that only read memory are async: FastAPI runs a sync one in the thread pool,
# and those hops cost more than the work under load.
async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


READ_METHODS = ("GET", "HEAD")


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request; GET and HEAD get one that may only read."""
    state = request.app.state
    factory = state.read_sessionmaker if request.method in READ_METHODS else state.sessionmaker
    session = factory()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_token(credentials: BearerDep) -> str:
    """The raw bearer token, or 401."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token; send 'Authorization: Bearer <token>'")
    return credentials.credentials


TokenDep = Annotated[str, Depends(get_token)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    """The user behind the bearer token, or 401."""
    user = user_for_token(session=session, token=token)
    if not is_read_only(session):
        # SQLite write transactions take the write lock (db.py); ending this one now keeps a
        # slow request, such as an upload being decoded, from holding it.
        session.commit()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin(user: CurrentUser) -> User:
    """The current user if an admin, else 403."""
    if user.role != Role.ADMIN.value:
        raise Forbidden("this needs an admin account")
    return user


CurrentAdmin = Annotated[User, Depends(require_admin)]
