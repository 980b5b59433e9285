"""Speech routes: the seed's synthesize-trained, the base voice, voices and aliases."""

from fastapi import APIRouter, Depends, UploadFile
from fastapi.responses import Response

from voicesmith.deps import CurrentAdmin, CurrentUser, SessionDep, SettingsDep, require_admin
from voicesmith.synthesis import catalog, detection, service, sharing
from voicesmith.synthesis.http import RouteName, SynthDep, audio_response
from voicesmith.synthesis.schemas import (
    AliasRequest,
    SharingRequest,
    SpeakRequest,
    TrainedSpeakRequest,
)

router = APIRouter(prefix="/api/v1", tags=["synthesis"])
admin_router = APIRouter(
    prefix="/api/v1/admin/voices", tags=["voices"], dependencies=[Depends(require_admin)]
)


@router.post("/synthesize-trained", response_class=Response)
def synthesize_trained(
    body: TrainedSpeakRequest,
    user: CurrentUser,
    session: SessionDep,
    synth: SynthDep,
    route: RouteName,
) -> Response:
    """Speak text in a trained voice shared with the user; unshared voices are 404."""
    audio = service.speak(
        session=session,
        synth=synth,
        audience=sharing.audience_of(user),
        voices=(body.job_id,),
        text=body.text,
        route=route,
        fmt=body.format,
        speed=body.speed,
        stream=body.stream,
    )
    return audio_response(audio)


@router.post("/synthesize", response_class=Response)
def synthesize_base(
    body: SpeakRequest, user: CurrentUser, session: SessionDep, synth: SynthDep, route: RouteName
) -> Response:
    """Speak text with the configured base model."""
    audio = service.speak(
        session=session,
        synth=synth,
        audience=sharing.audience_of(user),
        voices=(),
        text=body.text,
        route=route,
        fmt=body.format,
        speed=body.speed,
        stream=body.stream,
    )
    return audio_response(audio)


@router.get("/voices")
def voices(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> dict[str, object]:
    """The voices the user may speak (admins: all, with their sharing), and the base voice."""
    return {
        "status": "ok",
        "base_voice": settings.default_base_model,
        "voices": catalog.list_voices(session=session, audience=sharing.audience_of(user)),
    }


@router.post("/admin/detect", tags=["voices"])
def detect(
    audio: UploadFile, _: CurrentAdmin, session: SessionDep, settings: SettingsDep
) -> dict[str, object]:
    """Whether a clip carries this service's watermark, and which voice and installation made it."""
    found = detection.detect(session=session, settings=settings, audio=audio.file)
    return {"status": "ok", **found.as_dict()}


@admin_router.get("/cache")
def cache_stats(synth: SynthDep) -> dict[str, object]:
    """What the voice cache holds and how often it was hit."""
    return {"status": "ok", **synth.cache.summary()}


@admin_router.put("/{alias}")
def put_alias(alias: str, body: AliasRequest, session: SessionDep) -> dict[str, object]:
    """Name a completed job's voice, optionally pinning one of its checkpoints."""
    row = service.set_alias(
        session=session,
        alias=alias,
        job_id=body.job_id,
        checkpoint=body.checkpoint,
        wyoming=body.wyoming,
    )
    return {
        "status": "ok",
        "alias": row.alias,
        "job_id": row.job_id,
        "checkpoint": row.checkpoint,
        "wyoming": row.wyoming,
    }


@admin_router.put("/{name}/sharing")
def put_sharing(
    name: str, body: SharingRequest, session: SessionDep, admin: CurrentAdmin
) -> dict[str, object]:
    """Share a voice (alias or job id) with nobody, the users named, or everyone."""
    shared = sharing.set_sharing(
        session=session, name=name, mode=body.mode, users=body.users, changed_by=admin.username
    )
    return {"status": "ok", "voice": name, **shared}


@admin_router.delete("/{alias}")
def delete_alias(alias: str, session: SessionDep, admin: CurrentAdmin) -> dict[str, str]:
    """Remove an alias; the job's voice stays."""
    service.delete_alias(session=session, alias=alias, actor=admin.username)
    return {"status": "deleted", "alias": alias}
