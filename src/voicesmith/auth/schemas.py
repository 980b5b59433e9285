"""Request and response bodies for auth and user management."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from voicesmith.auth.models import Role


class LoginRequest(BaseModel):
    """Credentials for POST /auth/login."""

    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class TokenResponse(BaseModel):
    """A bearer token and when it stops working."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserOut(BaseModel):
    """A user as the API shows it; never the hash."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    role: Role
    created_at: datetime


class UserCreate(BaseModel):
    """An admin's request to create a user."""

    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)
    role: Role = Role.USER


class RolePatch(BaseModel):
    """An admin's request to change a user's role."""

    role: Role


class UserList(BaseModel):
    """All users."""

    status: str = "ok"
    users: list[UserOut]


class AuditItem(BaseModel):
    """One audit row: who did what to which voice, when; a synthesis adds its text and audio."""

    id: int
    at: datetime
    actor: str | None
    action: str
    route: str | None
    voice: str | None
    job_id: str | None
    checkpoint: str | None
    text_length: int | None
    text_sha256: str | None
    text: str | None
    audio_seconds: float | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    """A page of audit rows, newest first; next_cursor asks for the page after it."""

    items: list[AuditItem]
    total: int
    next_cursor: int | None
