"""Consent routes: a statement to read, the recording of it judged, a dataset's consent records."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from voicesmith.deps import CurrentAdmin, SessionDep, SettingsDep, require_admin
from voicesmith.training import consent
from voicesmith.training.models import ConsentChallenge, ConsentRecord
from voicesmith.training.schemas import ChallengeOut, ChallengeRequest, ConsentList, ConsentOut

router = APIRouter(
    prefix="/api/v1/admin/training", tags=["consent"], dependencies=[Depends(require_admin)]
)


def challenge_out(challenge: ConsentChallenge) -> ChallengeOut:
    """A challenge as the API shows it; the phrase is only inside the statement."""
    return ChallengeOut(
        challenge_id=challenge.id,
        dataset_name=challenge.dataset_name,
        speaker_name=challenge.speaker_name,
        statement=challenge.statement,
        expires_at=challenge.expires_at,
    )


def consent_out(record: ConsentRecord) -> ConsentOut:
    """A consent record as the API shows it."""
    return ConsentOut(
        record_id=record.id,
        status=record.status,
        code=record.code,
        reason=record.reason,
        cer=record.cer,
        similarity=record.similarity,
        threshold=record.threshold,
        heard=record.heard,
        dataset_name=record.dataset_name,
        speaker_name=record.speaker_name,
        statement=record.statement,
        sha256=record.sha256,
        recording=record.recording,
        job_id=record.job_id,
        created_by=record.created_by,
        created_at=record.created_at,
    )


@router.post("/datasets/{name}/consent/challenge")
def challenge(
    name: str,
    body: ChallengeRequest,
    session: SessionDep,
    settings: SettingsDep,
    admin: CurrentAdmin,
) -> ChallengeOut:
    """A statement for the dataset's speaker to read aloud: their name, today, a one-time code."""
    found = consent.open_challenge(
        session=session,
        settings=settings,
        dataset_name=name,
        speaker_name=body.speaker_name,
        admin=admin.username,
    )
    return challenge_out(found)


@router.post("/datasets/{name}/consent")
def verify(
    name: str,
    audio: Annotated[UploadFile, File(description="the speaker reading the statement")],
    session: SessionDep,
    settings: SettingsDep,
    admin: CurrentAdmin,
    challenge_id: Annotated[
        str | None, Form(max_length=64, description="default: the newest challenge")
    ] = None,
) -> ConsentOut:
    """Judge a recording of the statement: verified, or rejected with the reason; kept as audit."""
    record = consent.verify(
        session=session,
        settings=settings,
        dataset_name=name,
        audio=audio.file,
        admin=admin.username,
        challenge_id=challenge_id,
    )
    return consent_out(record)


@router.get("/datasets/{name}/consent")
def list_consent(name: str, session: SessionDep, settings: SettingsDep) -> ConsentList:
    """Whether the dataset has verified consent, and its records, a deleted namesake's included."""
    has, found = consent.overview(session=session, dataset_name=name)
    return ConsentList(
        dataset_name=name,
        consent=settings.consent,
        has_consent=has,
        records=[consent_out(r) for r in found],
    )
