"""Login, logout, whoami and admin user management."""

from fastapi import APIRouter, Depends, status

from voicesmith.auth import service
from voicesmith.auth.schemas import (
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

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
admin_router = APIRouter(
    prefix="/api/v1/admin/users", tags=["users"], dependencies=[Depends(require_admin)]
)


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
