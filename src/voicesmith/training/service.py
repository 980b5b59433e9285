"""Submitting, listing, cancelling, resuming and deleting training jobs."""

import shutil
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voicesmith.auth import audit
from voicesmith.config import Settings
from voicesmith.datasets import editing, layout, speakers
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.datasets.service import get_dataset, validate_dataset_name
from voicesmith.db import utcnow
from voicesmith.engines import runfiles
from voicesmith.errors import BadInput, Conflict, NotFound
from voicesmith.training import bases, consent, snapshot
from voicesmith.training.models import ACTIVE, RESUMABLE, Job, JobStatus
from voicesmith.training.schemas import written_reason
from voicesmith.training.worker import finish
from voicesmith.transcripts.warnings import transcript_warnings

MAX_LISTED = 10
OVERRIDE_FIELD = "consent_override_reason"


@dataclass(frozen=True)
class Trainable:
    """A start request that passed every check: its dataset, clips and base model."""

    name: str
    clips: list[Clip]
    base_model: str

    def rows(self) -> list[snapshot.ClipRow]:
        """The clips as the snapshot records them."""
        return [
            snapshot.ClipRow(c.id, c.wav_filename, c.transcript, c.content_hash) for c in self.clips
        ]


@contextmanager
def trainable(
    *, session: Session, settings: Settings, request: dict[str, Any]
) -> Iterator[Trainable]:
    """Every check /start makes (a dry run makes the same), with the dataset lock held."""
    name = validate_dataset_name(request["dataset_name"])
    _check_ranges(settings, request)
    # Under the dataset lock, so a snapshot taken inside is exactly the clips validated.
    with layout.dataset_lock(settings.data_dir / "locks", name):
        clips = _trainable_clips(session=session, settings=settings, name=name)
        spec = request.get("base_model") or settings.default_base_model
        base = bases.resolve(session=session, settings=settings, spec=spec)
        bases.check_transcripts(base, {c.wav_filename: c.transcript for c in clips})
        _check_disk(settings)
        yield Trainable(name, clips, spec)


def submit(
    *,
    session: Session,
    settings: Settings,
    request: dict[str, Any],
    owner: str | None = None,
    actor: str | None = None,
) -> Job:
    """Validate a start request, create its pending job row and freeze the dataset for it."""
    # owner is the admin the voice will belong to; actor names a caller without an account
    # (the CLI's system user), so that a consent override is never audited as nobody's.
    reason = _override_reason(request)
    with trainable(session=session, settings=settings, request=request) as found:
        name, clips = found.name, found.clips
        params = {**job_params(request), "base_model": found.base_model}
        warnings = consent.gate(
            session=session, settings=settings, name=name, override_reason=reason
        )
        warnings += transcript_warnings(session=session, settings=settings, name=name, clips=clips)
        job = _insert_job(
            session=session,
            settings=settings,
            dataset=name,
            params=params,
            warnings=warnings,
            owner=owner,
        )
        if reason:
            consent.note_override(session=session, job=job, reason=reason, admin=owner or actor)
        _freeze(session, settings, job, found.rows())
        freeze_speaker(Path(job.output_dir), clips)
    _log_warnings(job)
    return job


def _override_reason(request: dict[str, Any]) -> str | None:
    """The start request's consent override reason, checked for callers without the schema."""
    try:
        return written_reason(request.get(OVERRIDE_FIELD))
    except ValueError as exc:
        raise BadInput(str(exc)) from exc


def job_params(request: dict[str, Any]) -> dict[str, Any]:
    """A start request's training parameters: the consent override is kept on the job instead."""
    return {k: v for k, v in request.items() if k != OVERRIDE_FIELD}


def freeze_speaker(job_dir: Path, clips: list[Clip]) -> None:
    """Write the trained clips' speaker centroid and real_similarity for scoring the samples."""
    voices = speakers.analyse(clips)
    if voices.centroid is None:
        return  # embeddings off or not done yet: the job scores without likeness
    found = {
        "speaker_centroid": [round(float(x), 6) for x in voices.centroid],
        "real_similarity": voices.real_similarity,
    }
    runfiles.write_speaker(job_dir, found)


def _log_warnings(job: Job) -> None:
    """Start the job's log with its warnings, so they are read beside the training output."""
    if not job.warnings:
        return
    runfiles.append_log(Path(job.output_dir), [f"WARNING: {w}" for w in job.warnings])


def _freeze(session: Session, settings: Settings, job: Job, rows: list[snapshot.ClipRow]) -> None:
    """Snapshot the dataset into the job's folder; without one, the job is not kept."""
    job_dir = Path(job.output_dir)
    try:
        snapshot.freeze(settings=settings, job_dir=job_dir, dataset=job.dataset_name, clips=rows)
    except BaseException:
        session.delete(job)
        session.commit()
        shutil.rmtree(job_dir, ignore_errors=True)
        raise


def _trainable_clips(*, session: Session, settings: Settings, name: str) -> list[Clip]:
    """The dataset's clips, if there are enough of them and all are present and readable."""
    dataset = get_dataset(session=session, name=name)
    if dataset is None:
        raise NotFound(f"dataset '{name}' does not exist; upload clips to it first")
    clips = _clips(session, dataset)
    if len(clips) < settings.min_training_clips:
        raise BadInput(
            f"dataset '{name}' has {len(clips)} clips; training needs at least "
            f"{settings.min_training_clips}"
        )
    _check_files(settings, name, clips)
    return clips


def _clips(session: Session, dataset: Dataset) -> list[Clip]:
    """The dataset's clips with a ready transcript, in upload order."""
    query = select(Clip).where(Clip.dataset_id == dataset.id, Clip.status == ClipStatus.READY.value)
    return list(session.scalars(query.order_by(Clip.id)))


def _check_files(settings: Settings, name: str, clips: list[Clip]) -> None:
    """Every clip's WAV must exist and open."""
    wavs = layout.dataset_dir(settings.datasets_dir, name) / layout.WAVS_DIR
    broken = [c.wav_filename for c in clips if not _readable_wav(wavs / c.wav_filename)]
    if broken:
        listed = ", ".join(broken[:MAX_LISTED]) + (" ..." if len(broken) > MAX_LISTED else "")
        raise Conflict(
            f"{len(broken)} clip file(s) are missing or unreadable: {listed}; "
            "delete and upload them again"
        )


def _readable_wav(path: Path) -> bool:
    """Whether path is a WAV whose header opens."""
    try:
        with wave.open(str(path)) as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


def _check_ranges(settings: Settings, request: dict[str, Any]) -> None:
    """Epochs and batch size must be within the configured limits."""
    if request["epochs"] != "auto" and request["epochs"] > settings.max_epochs:
        raise BadInput(f"epochs must be between 1 and {settings.max_epochs}")
    if request["batch_size"] > settings.max_batch_size:
        raise BadInput(f"batch_size must be between 1 and {settings.max_batch_size}")
    for sentence in request.get("test_sentences") or []:
        if not sentence.strip() or len(sentence) > settings.max_transcript_chars:
            raise BadInput(
                f"each test sentence must be 1 to {settings.max_transcript_chars} characters"
            )


def _check_disk(settings: Settings) -> None:
    """Refuse to start when the data dir's disk is nearly full."""
    free_mb = shutil.disk_usage(settings.data_dir).free / 2**20
    if free_mb < settings.min_free_disk_mb:
        raise Conflict(
            f"only {free_mb:.0f} MB free in {settings.data_dir}; training needs at least "
            f"{settings.min_free_disk_mb:.0f} MB for checkpoints (VOICESMITH_MIN_FREE_DISK_MB)"
        )


def _insert_job(
    *,
    session: Session,
    settings: Settings,
    dataset: str,
    params: dict,
    warnings: list[str] | None = None,
    owner: str | None = None,
) -> Job:
    """Insert the job under <dataset>_<YYYYmmddHHMMSS>, adding a suffix on a collision."""
    stem = f"{dataset}_{utcnow():%Y%m%d%H%M%S}"
    for n in range(1, 1000):
        job_id = stem if n == 1 else f"{stem}_{n}"
        if session.get(Job, job_id) is not None:
            continue
        job = Job(
            id=job_id,
            dataset_name=dataset,
            params=params,
            output_dir=str((settings.runs_dir / job_id).resolve()),
            warnings=warnings or None,
            owner=owner,
        )
        session.add(job)
        try:
            session.commit()
            return job
        except IntegrityError:
            session.rollback()
    raise Conflict("too many jobs started this second; try again")


def get_job(*, session: Session, job_id: str) -> Job:
    """The job with this id, or NotFound."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job '{job_id}' does not exist")
    return job


def list_jobs(*, session: Session) -> list[Job]:
    """All jobs, newest first."""
    return list(session.scalars(select(Job).order_by(Job.created_at.desc(), Job.id.desc())))


def has_model(job: Job) -> bool:
    """Whether the job dir holds a usable model: config.json and a best_model*.pth."""
    return runfiles.has_model(Path(job.output_dir))


def log_path(job: Job) -> Path:
    """<job_dir>/train.log."""
    return runfiles.log_path(Path(job.output_dir))


def log_tail(*, session: Session, job_id: str, lines: int) -> str:
    """The last lines of a job's log, read from the end of the file."""
    job = get_job(session=session, job_id=job_id)
    return runfiles.log_tail(Path(job.output_dir), lines)


def cancel(*, session: Session, job_id: str) -> Job:
    """Cancel a pending job now, or ask the worker to stop a training one."""
    job = get_job(session=session, job_id=job_id)
    if job.status == JobStatus.PENDING:
        finish(job, JobStatus.CANCELLED, error=None)
    elif job.status == JobStatus.TRAINING:
        job.cancel_requested = True
    else:
        raise Conflict(
            f"job '{job_id}' is already {job.status}; only running jobs can be cancelled"
        )
    session.commit()
    return job


def can_resume(job: Job) -> bool:
    """Whether the job ended short of a model and left a checkpoint to continue from."""
    return job.status in RESUMABLE and runfiles.has_checkpoint(Path(job.output_dir))


def resume(*, session: Session, job_id: str) -> Job:
    """Queue a failed or cancelled job again, to continue from its newest checkpoint."""
    job = get_job(session=session, job_id=job_id)
    if job.status not in RESUMABLE:
        raise Conflict(f"job '{job_id}' is {job.status}; only failed or cancelled jobs resume")
    if not can_resume(job):
        raise Conflict(f"job '{job_id}' saved no checkpoint to resume from; start a new job")
    job.status, job.error, job.cancel_requested = JobStatus.PENDING.value, None, False
    job.params = {**job.params, "resume": True}
    job.attempts += 1
    session.commit()
    return job


def delete(*, session: Session, job_id: str, actor: str | None = None) -> None:
    """Delete a job that is not running, with its files; the audit keeps who did."""
    job = get_job(session=session, job_id=job_id)
    if job.status in ACTIVE:
        raise Conflict(f"job '{job_id}' is {job.status}; cancel it before deleting")
    shutil.rmtree(job.output_dir, ignore_errors=True)
    session.delete(job)
    detail = {"dataset": job.dataset_name}
    audit.record_admin(
        session=session, actor=actor, action=audit.Action.DELETE_JOB, job_id=job_id, detail=detail
    )
    session.commit()


def delete_dataset(
    *, session: Session, settings: Settings, name: str, actor: str | None = None
) -> None:
    """Delete a dataset and its files, unless a job is queued or training on it; audited."""
    editing.delete_dataset(
        session=session,
        settings=settings,
        name=name,
        in_use=lambda dataset: active_job_on(session=session, dataset=dataset),
    )
    detail = {"dataset": name}
    audit.record_admin(
        session=session, actor=actor, action=audit.Action.DELETE_DATASET, detail=detail
    )
    session.commit()


def active_job_on(*, session: Session, dataset: str) -> str | None:
    """The id of a job queued or training on the dataset, if there is one."""
    query = select(Job.id).where(Job.dataset_name == dataset, Job.status.in_(ACTIVE))
    return session.scalar(query)
