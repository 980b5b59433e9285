"""The Users and Voices tabs' actions, and the playground's Speak, calling the services."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from voicesmith.auth import service as auth_service
from voicesmith.auth.models import Role, User
from voicesmith.deps import SessionDep
from voicesmith.errors import BadInput
from voicesmith.synthesis import catalog, sharing
from voicesmith.synthesis import service as synthesis_service
from voicesmith.synthesis.http import RouteName, SynthDep, audio_response
from voicesmith.web.render import fragment, html
from voicesmith.web.session import ActionAdmin, ActionUser

router = APIRouter()


def voices_context(session: Session, user: User) -> dict[str, Any]:
    """The voices the user may speak, and the aliases naming them, marked when on Wyoming."""
    voices = catalog.list_voices(session=session, audience=sharing.audience_of(user))
    aliases = sorted(
        (alias, v["job_id"], alias in v["wyoming_aliases"])
        for v in voices
        for alias in v["aliases"]
    )
    return {"voices": voices, "aliases": aliases, "sharing": _sharing_rows(voices)}


def _sharing_rows(voices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each voice name with its owner and sharing, as the admin's list gives them."""
    rows = []
    for v in voices:
        if "sharing" not in v:
            continue  # a plain user's list carries no sharing
        named = [(v["job_id"], v["sharing"])] + sorted(v["alias_sharing"].items())
        for name, shared in named:
            rows.append({"name": name, "job_id": v["job_id"], "owner": v["owner"], **shared})
    return rows


def _role(value: str) -> Role:
    """A role from a form field."""
    try:
        return Role(value)
    except ValueError:
        raise BadInput("role must be 'admin' or 'user'") from None


def _users_panel(
    request: Request, session: Session, admin: User, created: User | None = None
) -> Response:
    """The Users table, re-rendered, saying which user was just created."""
    users = auth_service.list_users(session=session)
    context = {"users": users, "user": admin, "created": created}
    return html(fragment(request, "_users.html", context))


@router.post("/admin/users")
def create_user(
    request: Request,
    session: SessionDep,
    admin: ActionAdmin,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Annotated[str, Form(max_length=16)] = "user",
) -> Response:
    """Create a user with a role."""
    created = auth_service.create_user(
        session=session, username=username, password=password, role=_role(role)
    )
    return _users_panel(request, session, admin, created)


@router.post("/admin/users/{username}/role")
def set_role(
    request: Request,
    username: str,
    session: SessionDep,
    admin: ActionAdmin,
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Make a user an admin or a plain user."""
    auth_service.set_role(session=session, username=username, role=_role(role), acting_user=admin)
    return _users_panel(request, session, admin)


@router.delete("/admin/users/{username}")
def delete_user(
    request: Request, username: str, session: SessionDep, admin: ActionAdmin
) -> Response:
    """Delete a user."""
    auth_service.delete_user(session=session, username=username, acting_user=admin)
    return _users_panel(request, session, admin)


def _aliases_panel(request: Request, session: Session, admin: User) -> Response:
    """The aliases table, re-rendered, and the voice picker beside it, which names voices so."""
    context = {**voices_context(session, admin), "user": admin, "oob": True}
    return html(fragment(request, "_aliases.html", context))


@router.post("/admin/voices/aliases")
def put_alias(
    request: Request,
    session: SessionDep,
    admin: ActionAdmin,
    alias: Annotated[str, Form(max_length=64)] = "",
    job_id: Annotated[str, Form(max_length=256)] = "",
    checkpoint: Annotated[str, Form(max_length=255)] = "",
    wyoming: Annotated[bool, Form()] = False,
) -> Response:
    """Name a voice, optionally pinning a checkpoint and serving it over Wyoming."""
    synthesis_service.set_alias(
        session=session,
        alias=alias,
        job_id=job_id,
        checkpoint=checkpoint.strip() or None,
        wyoming=wyoming,
    )
    return _aliases_panel(request, session, admin)


@router.post("/admin/voices/aliases/{alias}/wyoming")
def publish_alias(
    request: Request,
    alias: str,
    session: SessionDep,
    admin: ActionAdmin,
    publish: Annotated[bool, Form()] = False,
) -> Response:
    """Serve an alias over Wyoming (Home Assistant), or stop serving it."""
    synthesis_service.publish_alias(session=session, alias=alias, wyoming=publish)
    return _aliases_panel(request, session, admin)


@router.delete("/admin/voices/aliases/{alias}")
def delete_alias(request: Request, alias: str, session: SessionDep, admin: ActionAdmin) -> Response:
    """Remove an alias."""
    synthesis_service.delete_alias(session=session, alias=alias, actor=admin.username)
    return _aliases_panel(request, session, admin)


@router.post("/admin/voices/sharing/{name}")
def set_sharing(
    request: Request,
    name: str,
    session: SessionDep,
    admin: ActionAdmin,
    mode: Annotated[str, Form(max_length=32)] = "",
    users: Annotated[str, Form(max_length=65_536)] = "",
) -> Response:
    """Share a voice name with nobody, the users listed (comma-separated), or everyone."""
    # The users box is always sent; it counts only when the mode is 'users'.
    names = [u.strip() for u in users.replace(",", " ").split()] if mode == "users" else []
    sharing.set_sharing(
        session=session, name=name, mode=mode, users=names, changed_by=admin.username
    )
    context = {**voices_context(session, admin), "user": admin}
    return html(fragment(request, "_sharing.html", context))


@router.post("/playground/speak")
def speak(
    session: SessionDep,
    synth: SynthDep,
    user: ActionUser,
    route: RouteName,
    voice: Annotated[str, Form(max_length=256)] = "",
    text: Annotated[str, Form(max_length=1_000_000)] = "",
) -> Response:
    """Speak: the text as a WAV in the chosen voice, as POST /api/v1/synthesize-trained."""
    if not voice:
        raise BadInput("pick a voice; train one on the Training tab first")
    audio = synthesis_service.speak(
        session=session,
        synth=synth,
        audience=sharing.audience_of(user),
        voices=(voice,),
        text=text,
        route=route,
    )
    return audio_response(audio)
