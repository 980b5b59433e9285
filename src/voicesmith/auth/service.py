"""Password hashing, tokens, login throttling and user management."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from voicesmith.auth.models import ApiToken, LoginThrottle, Role, User
from voicesmith.config import Settings
from voicesmith.db import utcnow
from voicesmith.errors import BadInput, Conflict, NotFound, RateLimited, Unauthorized

USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
BAD_LOGIN = "username or password is wrong"

_hasher = PasswordHash.recommended()
# Verifying against a real hash for unknown users makes both paths cost the same time.
_DUMMY_HASH = _hasher.hash("voicesmith-timing-equaliser")


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token; the plain value exists only here."""

    access_token: str
    expires_at: datetime


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def validate_username(username: str) -> str:
    """Return the username if it is well-formed, else raise BadInput."""
    if not USERNAME_RE.fullmatch(username):
        raise BadInput("username may contain only letters, digits, '.', '_' and '-' (1-64)")
    return username


def validate_password(password: str) -> str:
    """Return the password if it is long enough, else raise BadInput."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise BadInput(f"password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


def create_user(*, session: Session, username: str, password: str, role: Role) -> User:
    """Create a user with an argon2 password hash."""
    validate_username(username)
    validate_password(password)
    if get_user(session=session, username=username) is not None:
        raise Conflict(f"user '{username}' already exists")
    user = User(username=username, password_hash=_hasher.hash(password), role=role.value)
    session.add(user)
    session.commit()
    return user


def get_user(*, session: Session, username: str) -> User | None:
    """The user with this name, if any."""
    return session.scalar(select(User).where(User.username == username))


def list_users(*, session: Session) -> list[User]:
    """All users, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def delete_user(*, session: Session, username: str, acting_user: User) -> None:
    """Delete a user, refusing to remove yourself or the last admin."""
    user = get_user(session=session, username=username)
    if user is None:
        raise NotFound(f"user '{username}' does not exist")
    if user.id == acting_user.id:
        raise Conflict("you cannot delete your own account; log in as another admin")
    if user.role == Role.ADMIN and count_admins(session=session) <= 1:
        raise Conflict("cannot delete the last admin")
    session.delete(user)
    session.commit()


def set_role(*, session: Session, username: str, role: Role, acting_user: User) -> User:
    """Change a user's role, refusing to change your own or to demote the last admin."""
    user = get_user(session=session, username=username)
    if user is None:
        raise NotFound(f"user '{username}' does not exist")
    if user.id == acting_user.id:
        raise Conflict("you cannot change your own role; ask another admin")
    if user.role == Role.ADMIN and role != Role.ADMIN and count_admins(session=session) <= 1:
        raise Conflict("cannot demote the last admin")
    user.role = role.value
    session.commit()
    return user


def count_admins(*, session: Session) -> int:
    """How many admins exist."""
    return session.scalar(select(func.count()).where(User.role == Role.ADMIN.value)) or 0


def login(*, session: Session, settings: Settings, username: str, password: str) -> IssuedToken:
    """Check credentials under the settings' throttle and lockout, and issue a token."""
    return _login(
        session=session,
        username=username,
        password=password,
        ttl=timedelta(hours=settings.token_ttl_hours),
        max_failures=settings.login_max_failures,
        lockout=timedelta(seconds=settings.login_lockout_seconds),
    )


def _login(
    *,
    session: Session,
    username: str,
    password: str,
    ttl: timedelta,
    max_failures: int,
    lockout: timedelta,
) -> IssuedToken:
    """Check credentials under the throttle and issue a token."""
    now = utcnow()
    throttle = session.get(LoginThrottle, username[:64])
    _refuse_if_locked(throttle, now)
    user = get_user(session=session, username=username)
    hashed = user.password_hash if user is not None else _DUMMY_HASH
    if not _hasher.verify(password, hashed) or user is None:
        _record_failure(
            session=session,
            username=username[:64],
            now=now,
            max_failures=max_failures,
            lockout=lockout,
        )
        raise Unauthorized(BAD_LOGIN)
    if throttle is not None:
        session.delete(throttle)
    return issue_token(session=session, user=user, ttl=ttl)


def _refuse_if_locked(throttle: LoginThrottle | None, now: datetime) -> None:
    """Raise RateLimited while the username is locked out."""
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return
    wait = int((throttle.locked_until - now).total_seconds()) + 1
    raise RateLimited(f"too many failed logins; try again in {wait} s", retry_after=wait)


def _record_failure(
    *, session: Session, username: str, now: datetime, max_failures: int, lockout: timedelta
) -> None:
    """Count a failed login and lock the username once it reaches the limit."""
    throttle = session.get(LoginThrottle, username)
    if throttle is None or now - throttle.first_failure_at > lockout:
        throttle = session.merge(LoginThrottle(username=username, failures=0, first_failure_at=now))
    throttle.failures += 1
    if throttle.failures >= max_failures:
        throttle.locked_until = now + lockout
        throttle.failures = 0
        throttle.first_failure_at = now
    session.commit()


def issue_token(*, session: Session, user: User, ttl: timedelta) -> IssuedToken:
    """Create a random token for a user and store only its hash."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + ttl
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), expires_at=expires_at))
    session.commit()
    return IssuedToken(access_token=token, expires_at=expires_at)


def user_for_token(*, session: Session, token: str) -> User:
    """The user a live token belongs to, else Unauthorized."""
    # One query for the token and its user: this runs on every authenticated request.
    query = select(ApiToken).options(joinedload(ApiToken.user))
    row = session.scalar(query.where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("token is invalid or revoked; log in again")
    if row.expires_at <= utcnow():
        raise Unauthorized("token has expired; log in again")
    return row.user


def revoke_token(*, session: Session, token: str) -> None:
    """Revoke a token so it can never be used again."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()


def purge_expired_tokens(*, session: Session) -> int:
    """Delete tokens that expired; returns how many."""
    result = session.execute(delete(ApiToken).where(ApiToken.expires_at <= utcnow()))
    session.commit()
    return result.rowcount or 0


def ensure_admin(*, session: Session, username: str, password: str | None) -> str | None:
    """Create the first admin when none exists; returns a generated password, if one was made."""
    if count_admins(session=session) > 0:
        return None
    generated = None if password else secrets.token_urlsafe(18)
    create_user(session=session, username=username, password=password or generated, role=Role.ADMIN)
    return generated
