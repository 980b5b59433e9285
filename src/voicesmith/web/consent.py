"""The dataset page's Consent panel: a statement to read, and the recording of it judged."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from voicesmith.deps import SessionDep, SettingsDep
from voicesmith.errors import BadInput
from voicesmith.training import consent
from voicesmith.web.render import fragment, html
from voicesmith.web.session import ActionAdmin

router = APIRouter(prefix="/admin/datasets")


@router.post("/{name}/consent/challenge")
def challenge(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    admin: ActionAdmin,
    speaker_name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Get statement: the text the speaker reads aloud, as the API's challenge route."""
    found = consent.open_challenge(
        session=session,
        settings=settings,
        dataset_name=name,
        speaker_name=speaker_name,
        admin=admin.username,
    )
    return html(fragment(request, "_consent_statement.html", {"challenge": found}))


@router.post("/{name}/consent")
def verify(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    admin: ActionAdmin,
    audio: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check recording: the verdict on the speaker reading the statement, as the API's route."""
    if audio is None:
        raise BadInput("choose the recording of the speaker reading the statement")
    record = consent.verify(
        session=session,
        settings=settings,
        dataset_name=name,
        audio=audio.file,
        admin=admin.username,
    )
    return html(fragment(request, "_consent_result.html", {"record": record}))
