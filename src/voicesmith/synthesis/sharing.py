"""Who may see and speak a voice: its owner, admins, and whom its name is shared with."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.auth import audit
from voicesmith.auth.models import Role, User
from voicesmith.db import utcnow
from voicesmith.errors import BadInput, NotFound
from voicesmith.synthesis.models import Sharing, VoiceAlias, VoiceShare, VoiceSharing
from voicesmith.training.models import Job

MODES = ", ".join(f"'{m.value}'" for m in Sharing)


@dataclass(frozen=True)
class Audience:
    """Who asks for a voice: a user, an admin (every voice), or nobody logged in (Wyoming)."""

    username: str | None
    user_id: int | None
    admin: bool


# Wyoming has no users: it hears only the voices shared with everyone.
ANYONE = Audience(username=None, user_id=None, admin=False)
# The command line runs on the server with its database: it may use every voice.
LOCAL = Audience(username=None, user_id=None, admin=True)


def audience_of(user: User) -> Audience:
    """The audience a logged-in user is."""
    return Audience(user.username, user.id, user.role == Role.ADMIN.value)


def may_use(*, session: Session, audience: Audience, name: str) -> bool:
    """Whether the audience may see and speak the voice `name` (a job id or alias)."""
    # The owner is an admin when training; no rule of its own, as a name freed by deleting
    # that account could be taken by a plain user who would then inherit it.
    if audience.admin:
        return True
    row = session.get(VoiceSharing, name)
    if row is None:  # a voice made after sharing existed and never shared
        return False
    if row.mode == Sharing.EVERYONE.value:
        return True
    return row.mode == Sharing.USERS.value and any(s.user_id == audience.user_id for s in row.users)


def modes(*, session: Session) -> dict[str, VoiceSharing]:
    """Every voice name's sharing row, by name; a name missing here is private."""
    return {row.voice: row for row in session.scalars(select(VoiceSharing))}


def describe(row: VoiceSharing | None, names: dict[int, str]) -> dict[str, object]:
    """A sharing row as the API shows it; None is private."""
    if row is None:
        return {"mode": Sharing.PRIVATE.value, "users": [], "changed_by": None, "changed_at": None}
    users = sorted(names[s.user_id] for s in row.users if s.user_id in names)
    return {
        "mode": row.mode,
        "users": users,
        "changed_by": row.changed_by,
        "changed_at": row.changed_at,
    }


def usernames(*, session: Session) -> dict[int, str]:
    """Every user's name by id."""
    return {user_id: name for user_id, name in session.execute(select(User.id, User.username))}


def set_sharing(
    *, session: Session, name: str, mode: str, users: list[str], changed_by: str
) -> dict[str, object]:
    """Share a voice (job id or alias) with nobody, named users, or everyone; who did is kept."""
    ids = _user_ids(session=session, mode=_mode(mode), users=users)
    if session.get(VoiceAlias, name) is None and session.get(Job, name) is None:
        raise NotFound(f"voice '{name}' does not exist; GET /api/v1/voices lists the voices")
    row = session.get(VoiceSharing, name) or VoiceSharing(voice=name)
    row.mode, row.changed_by, row.changed_at = mode, changed_by, utcnow()
    row.users = [VoiceShare(voice=name, user_id=i) for i in ids]
    session.add(row)
    detail = {"mode": mode, "users": sorted(set(users))}
    audit.record_admin(
        session=session, actor=changed_by, action=audit.Action.SHARING, voice=name, detail=detail
    )
    session.commit()
    return describe(row, usernames(session=session))


def _mode(mode: str) -> Sharing:
    """A sharing mode, or BadInput naming the modes there are."""
    try:
        return Sharing(mode)
    except ValueError:
        raise BadInput(f"mode must be one of {MODES}, not '{mode[:64]}'") from None


def _user_ids(*, session: Session, mode: Sharing, users: list[str]) -> list[int]:
    """The ids of the named users; BadInput for unknown names or names with the wrong mode."""
    wanted = sorted(set(users))
    if mode != Sharing.USERS and wanted:
        raise BadInput(f"users are named only with mode 'users', not '{mode.value}'")
    if mode == Sharing.USERS and not wanted:
        raise BadInput(
            "mode 'users' needs at least one user in 'users'; 'private' shares with none"
        )
    query = select(User.username, User.id).where(User.username.in_(wanted))
    found = {name: user_id for name, user_id in session.execute(query)}
    unknown = [u for u in wanted if u not in found]
    if unknown:
        listed = ", ".join(f"'{u[:64]}'" for u in unknown[:5])
        raise BadInput(f"no such user: {listed}; GET /api/v1/admin/users lists the users")
    return [found[u] for u in wanted]


def forget(*, session: Session, name: str) -> None:
    """Drop a removed alias's sharing, so an alias made later by that name starts private."""
    row = session.get(VoiceSharing, name)
    if row is not None:
        session.delete(row)
