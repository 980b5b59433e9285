"""Login, logout, whoami, admin user management and the audit trail."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from voicesmith.auth import audit_log, service
from voicesmith.auth.audit import Action
from voicesmith.auth.schemas import (
    AuditPage,
    LoginRequest,
    RolePatch,
    TokenResponse,
    UserCreate,
    UserList,
    UserOut,
)
from voicesmith.deps import (
    CurrentAdmin,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TokenDep,
    require_admin,
)
from voicesmith.errors import BadInput

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
admin_router = APIRouter(
    prefix="/api/v1/admin/users", tags=["users"], dependencies=[Depends(require_admin)]
)
FILTERS = ("actor", "voice", "action", "route", "since", "until", "limit", "offset", "cursor")


def _known_filters(request: Request) -> None:
    """Refuse a misspelt filter, which would otherwise widen the page to every row."""
    unknown = sorted(set(request.query_params) - set(FILTERS))
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise BadInput(f"unknown audit filter {names}; the filters are {', '.join(FILTERS)}")


audit_router = APIRouter(
    prefix="/api/v1/admin/audit",
    tags=["audit"],
    dependencies=[Depends(require_admin), Depends(_known_filters)],
)
Name = Annotated[str | None, Query(min_length=1, max_length=128)]
CURSOR = "the next_cursor of the page before"
MAX_ID = 2**63 - 1  # the largest row id a database stores
SINCE = "ISO 8601 date or time, such as 2026-11-01 or 2026-11-01T09:30:00Z; without a zone, UTC"


@router.post("/login")
def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    issued = service.login(
        session=session, settings=settings, username=body.username, password=body.password
    )
    return TokenResponse(access_token=issued.access_token, expires_at=issued.expires_at)


@router.post("/logout")
def logout(_user: CurrentUser, token: TokenDep, session: SessionDep) -> dict[str, str]:
    """Revoke the token this request was made with."""
    service.revoke_token(session=session, token=token)
    return {"status": "logged_out"}


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    """Who the token belongs to."""
    return UserOut.model_validate(user)


@admin_router.get("")
def list_users(session: SessionDep) -> UserList:
    """List every user."""
    users = service.list_users(session=session)
    return UserList(users=[UserOut.model_validate(u) for u in users])


@admin_router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep) -> UserOut:
    """Create a user with a role."""
    user = service.create_user(
        session=session, username=body.username, password=body.password, role=body.role
    )
    return UserOut.model_validate(user)


@admin_router.patch("/{username}")
def set_role(username: str, body: RolePatch, session: SessionDep, admin: CurrentAdmin) -> UserOut:
    """Make a user an admin or a plain user."""
    user = service.set_role(session=session, username=username, role=body.role, acting_user=admin)
    return UserOut.model_validate(user)


@admin_router.delete("/{username}")
def delete_user(username: str, session: SessionDep, admin: CurrentAdmin) -> dict[str, str]:
    """Delete a user and all their tokens."""
    service.delete_user(session=session, username=username, acting_user=admin)
    return {"status": "deleted", "username": username}


@audit_router.get("")
def audit_events(
    session: SessionDep,
    actor: Name = None,
    voice: Name = None,
    action: Annotated[Action | None, Query()] = None,
    route: Name = None,
    since: Annotated[str | None, Query(max_length=64, description=SINCE)] = None,
    until: Annotated[str | None, Query(max_length=64, description="ISO 8601, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=audit_log.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID, description=CURSOR)] = None,
) -> AuditPage:
    """Syntheses and admin actions, newest first, filtered; next_cursor pages on."""
    filters = audit_log.Filters(
        actor=actor,
        voice=voice,
        action=action.value if action else None,
        route=route,
        since=audit_log.moment("since", since),
        until=audit_log.moment("until", until),
    )
    found = audit_log.page(
        session=session, filters=filters, limit=limit, offset=offset, cursor=cursor
    )
    return AuditPage.model_validate(found)
