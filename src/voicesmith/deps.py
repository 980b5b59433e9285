"""Annotated dependency aliases shared by every router."""

from collections.abc import AsyncIterator
from typing import Annotated, Protocol

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.auth.models import Role, User
from voicesmith.auth.service import user_for_token
from voicesmith.config import Settings
from voicesmith.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login")


# Dependencies that only read memory are async: FastAPI runs a sync one in the thread pool,
# and those hops cost more than the work under load.
async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


READ_METHODS = ("GET", "HEAD")
REQUEST_THREADS = 40  # anyio's default, set by app.py so the relation below holds
REQUEST_SESSIONS = 30


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session for one request; GET and HEAD get one that may only read."""
    state = request.app.state
    factory = state.read_sessionmaker if request.method in READ_METHODS else state.sessionmaker
    session = factory()  # connects lazily, on the first query, in the handler's thread
    try:
        yield session
    finally:
        await anyio.to_thread.run_sync(session.close)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
# A request holds its connection across thread-pool hops (handler, response validation,
# close). If every pool thread waited for a connection while the holders waited for a
# thread, nothing would move until the pool timed out. So fewer requests hold a session
# at once than there are threads; the rest wait without taking one. "function" frees the
# place before a response streams, so a long stream does not keep it.
SessionDep = Annotated[
    Session, Depends(get_session, scope="function", max_concurrency=REQUEST_SESSIONS)
]
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
    # Ending the transaction hands the connection back between thread hops, so a request
    # waiting for a thread never holds one; for writers it also frees SQLite's write lock
    # (db.py) while a slow request, such as an upload being decoded, goes on.
    session.commit()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin(user: CurrentUser) -> User:
    """The current user if an admin, else 403."""
    if user.role != Role.ADMIN.value:
        raise Forbidden("this needs an admin account")
    return user


CurrentAdmin = Annotated[User, Depends(require_admin)]


# The queues are wired by app.py at start-up; routes declare them as typed parameters, and
# these types stay free of the domain packages that own the tasks.
class EnqueueJob(Protocol):
    """Puts a training job on the queue by id."""

    def __call__(self, job_id: str, /) -> object: ...


class EnqueueDryRun(Protocol):
    """Puts a dry run (a training estimate) on the training queue by id."""

    def __call__(self, estimate_id: str, /) -> object: ...


class EnqueueClips(Protocol):
    """Puts clips on the analysis queue: speech recognition and speaker embedding."""

    def __call__(self, clip_ids: list[int], /) -> object: ...


class EnqueueImport(Protocol):
    """Puts a long-recording import on the speech-recognition queue by id."""

    def __call__(self, import_id: int, /) -> object: ...


async def get_enqueue_training(request: Request) -> EnqueueJob:
    """The function that queues training jobs."""
    return request.app.state.enqueue_training


async def get_enqueue_estimate(request: Request) -> EnqueueDryRun:
    """The function that queues dry runs."""
    return request.app.state.enqueue_estimate


async def get_enqueue_transcribe(request: Request) -> EnqueueClips:
    """The function that queues clips for speech recognition and speaker embedding."""
    return request.app.state.enqueue_transcribe


async def get_enqueue_long_import(request: Request) -> EnqueueImport:
    """The function that queues long-recording imports."""
    return request.app.state.enqueue_long_import


async def get_sessions(request: Request) -> sessionmaker[Session]:
    """The session factory, for work that outlives the request's own session (streams)."""
    return request.app.state.sessionmaker


EnqueueTraining = Annotated[EnqueueJob, Depends(get_enqueue_training)]
EnqueueEstimate = Annotated[EnqueueDryRun, Depends(get_enqueue_estimate)]
EnqueueTranscribe = Annotated[EnqueueClips, Depends(get_enqueue_transcribe)]
EnqueueLongImport = Annotated[EnqueueImport, Depends(get_enqueue_long_import)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
