"""The list of voices an audience may see: completed jobs, their aliases and their sharing."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.engines.runfiles import INT8_ONNX_FILE, ONNX_FILE
from voicesmith.synthesis import sharing
from voicesmith.synthesis.models import VoiceAlias
from voicesmith.synthesis.sharing import Audience
from voicesmith.training.models import Job, JobStatus
from voicesmith.training.service import has_model


def list_voices(*, session: Session, audience: Audience) -> list[dict[str, object]]:
    """Completed jobs with a model and their aliases, as far as the audience may use them."""
    rows = list(session.scalars(select(VoiceAlias).order_by(VoiceAlias.alias)))
    jobs = session.scalars(
        select(Job).where(Job.status == JobStatus.COMPLETED.value).order_by(Job.created_at.desc())
    )
    modes = sharing.modes(session=session) if audience.admin else {}
    names = sharing.usernames(session=session) if audience.admin else {}
    voices = []
    for job in jobs:
        if not has_model(job):
            continue
        mine = [r for r in rows if r.job_id == job.id and _may(session, audience, r.alias)]
        own = _may(session, audience, job.id)
        if not own and not mine:
            continue
        voice = _voice(job, mine, own)
        if audience.admin:
            voice["owner"] = job.owner
            voice["sharing"] = sharing.describe(modes.get(job.id), names)
            voice["alias_sharing"] = {
                r.alias: sharing.describe(modes.get(r.alias), names) for r in mine
            }
        voices.append(voice)
    return voices


def _may(session: Session, audience: Audience, name: str) -> bool:
    """Whether the audience may use this voice name."""
    return sharing.may_use(session=session, audience=audience, name=name)


def _voice(job: Job, aliases: list[VoiceAlias], own: bool) -> dict[str, object]:
    """One voice; when only an alias is shared, the job id is left out and the alias names it."""
    return {
        "name": job.id if own else aliases[0].alias,
        "job_id": job.id if own else None,
        "dataset": job.dataset_name,
        "aliases": [r.alias for r in aliases],
        "wyoming_aliases": [r.alias for r in aliases if r.wyoming],
        "created_at": job.finished_at,
        "onnx": (Path(job.output_dir) / ONNX_FILE).is_file(),
        "int8": (Path(job.output_dir) / INT8_ONNX_FILE).is_file(),
    }
