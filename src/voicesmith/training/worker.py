"""The worker's side of a job row: claim it, copy progress into it, and record how it ended."""

import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.db import utcnow
from voicesmith.engines import runfiles
from voicesmith.training import bases, failures, snapshot
from voicesmith.training.models import Job, JobStatus
from voicesmith.transcripts.warnings import asr_spec

TAIL_LINES = 20
# The trainer's ERROR line is its last; warnings and a traceback may come a while before it.
CAUSE_LINES = 200
DEFAULT_MAX_STEPS = 5000  # epochs "auto": the bound when the request names no max_steps
DEFAULT_AUTO_PATIENCE = 3  # epochs "auto": scored evaluations without a better checkpoint
# Memory ran out: the job continues at half the batch size, at most this many times.
MAX_SHRINKS = 2
WORKER_STOPPED = "worker stopped during training; resume the job to continue"
# The params key under which the reaper leaves the takeover's line for the next claim's log.
TAKEOVER_PARAM = "takeover"


@dataclass(frozen=True)
class Claimed:
    """A job this worker claimed: its folder and the attempt its writes carry."""

    job_dir: Path
    attempt: int


def claim(
    *, session: Session, settings: Settings, job_id: str, worker_id: str, gpu: str | None
) -> Claimed | None:
    """Move a pending job to training as a new attempt, with its job.json; None if not pending."""
    # The row lock makes two workers handed the same id (a resume raced a redelivery) agree.
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status != JobStatus.PENDING:
        return None
    job.attempt += 1
    job_dir = Path(job.output_dir)
    # From here on a process of an earlier attempt refuses to write the folder, and stops.
    runfiles.start_attempt(job_dir, job.attempt)
    takeover = job.params.get(TAKEOVER_PARAM)
    if takeover:  # said once, by the attempt that takes over
        runfiles.append_log(job_dir, [f"=== {utcnow():%Y-%m-%d %H:%M:%S} UTC: {takeover}"])
        job.params = {k: v for k, v in job.params.items() if k != TAKEOVER_PARAM}
    runfiles.write_spec(job_dir, job_spec(settings=settings, job=job))
    started_now(job, worker_id)
    job.gpus = gpu
    session.commit()
    return Claimed(job_dir, job.attempt)


def job_spec(*, settings: Settings, job: Job) -> dict[str, Any]:
    """The job.json the training process reads."""
    params = job.params
    return {
        **_training_spec(settings=settings, params=params),
        "job_id": job.id,
        "dataset_dir": str(_dataset_dir(settings, job).resolve()),
        "base_model": bases.engine_spec(settings=settings, spec=params["base_model"]),
        "models_dir": str(settings.models_dir.resolve()),
        "batch_size": params["batch_size"],
        "grad_accum_steps": params.get("grad_accum_steps", 1),
        "memory_limit_mb": settings.training_memory_limit_mb or None,
        "int8": settings.int8_copy,
        "figures": settings.training_figures,
        "learning_rate": params.get("learning_rate"),
        "eval_split": params.get("eval_split"),
        "save_every_steps": params.get("save_every_steps"),
        "test_sentences": params.get("test_sentences"),
        "resume": bool(params.get("resume")),
        "keep_checkpoints": settings.keep_checkpoints,
        "seed": None,
        **asr_spec(settings),
        **runfiles.read_speaker(Path(job.output_dir)),
        "attempt": job.attempt,
    }


def _training_spec(*, settings: Settings, params: dict[str, Any]) -> dict[str, Any]:
    """How long the job trains and how it is scored: epochs, max_steps, patience, scoring."""
    auto = params["epochs"] == "auto"
    patience = params.get("early_stop_patience")
    return {
        # "auto" trains until early stopping, bounded by max_steps rather than epochs.
        "epochs": settings.max_epochs if auto else params["epochs"],
        "max_steps": params.get("max_steps") or (DEFAULT_MAX_STEPS if auto else None),
        "early_stop_patience": (DEFAULT_AUTO_PATIENCE if auto else 0)
        if patience is None
        else patience,
        "scoring": settings.scoring,
        "score_budget": settings.score_budget,
    }


def _dataset_dir(settings: Settings, job: Job) -> Path:
    """The folder the job trains on."""
    job_dir = Path(job.output_dir)
    return snapshot.dataset_dir(settings=settings, job_dir=job_dir, dataset=job.dataset_name)


def continue_smaller(*, session: Session, settings: Settings, job_id: str, attempt: int) -> bool:
    """After running out of memory, continue from the newest checkpoint at half the batch.

    The batch is split in twice as many parts, each backpropagated before one update, so the
    effective batch size and the learning dynamics stay. False once the job may not shrink.
    """
    job = session.get(Job, job_id)
    params, job_dir = job.params, Path(job.output_dir)
    parts = params.get("grad_accum_steps", 1)
    size = -(-params["batch_size"] // parts)
    if job.status != JobStatus.TRAINING or job.attempt != attempt:
        return False
    if parts >= 2**MAX_SHRINKS or size <= 1:
        return False
    smaller = -(-params["batch_size"] // (parts * 2))
    step = ((read_progress(job) or {}).get("out_of_memory") or {}).get("step", 0)
    said = (
        f"ran out of memory at batch size {size} on step {step:,}; "
        f"continuing at {smaller} with {parts * 2} accumulation steps"
    )
    resume = runfiles.has_checkpoint(job_dir)  # else it starts again from step 0
    job.params = {**params, "grad_accum_steps": parts * 2, "resume": resume}
    job.warnings = [*(job.warnings or []), said]
    runfiles.append_log(job_dir, [f"WARNING: {said}"])
    runfiles.write_spec(job_dir, job_spec(settings=settings, job=job))
    session.commit()
    return True


def started_now(job: Job, worker_id: str) -> None:
    """Mark a job as training on this worker."""
    job.status, job.worker_id, job.started_at = JobStatus.TRAINING.value, worker_id, utcnow()
    job.finished_at, job.error = None, None


def record_pid(*, session: Session, job_id: str, pid: int) -> None:
    """Remember the training process, so a lost worker's trainer can be found and killed."""
    session.get(Job, job_id).pid = pid
    session.commit()


def sync_progress(*, session: Session, job_id: str, worker_id: str, attempt: int) -> str | None:
    """Store the latest progress; returns "cancelled" or "taken" when the job must stop."""
    job = session.get(Job, job_id)
    if job.status != JobStatus.TRAINING or job.worker_id != worker_id or job.attempt != attempt:
        session.commit()
        return "taken"  # declared lost while this worker was cut off; someone else owns it
    progress = read_progress(job)
    if progress is not None and progress != job.progress:
        job.progress = progress
        job.device = progress.get("device", job.device)
    session.commit()
    return "cancelled" if job.cancel_requested else None


def read_progress(job: Job) -> dict[str, Any] | None:
    """The training process's latest progress.json, with percent and ETA added."""
    raw = runfiles.read_progress(Path(job.output_dir))
    if raw is None:
        return None
    total, step = raw.get("total_steps") or 0, raw.get("step") or 0
    per_step = raw.get("seconds_per_step") or 0.0
    raw["percent"] = round(100.0 * min(step, total) / total, 1) if total else 0.0
    raw["eta_seconds"] = round(max(total - step, 0) * per_step, 1) if per_step else None
    return raw


def record_outcome(
    *, session: Session, job_id: str, attempt: int, code: int | None, reason: str | None
) -> bool:
    """Turn the exit code and stop reason into the job's terminal status; False if taken over."""
    job = session.get(Job, job_id)
    if reason == "taken" or job.status != JobStatus.TRAINING or job.attempt != attempt:
        session.commit()
        return False
    if reason == "cancelled":
        status, error = JobStatus.CANCELLED, None
    elif reason == "worker":
        status, error = JobStatus.FAILED, WORKER_STOPPED
    elif code == 0 and runfiles.has_model(Path(job.output_dir)):
        status, error = JobStatus.COMPLETED, None
    else:
        status, error = JobStatus.FAILED, _failure_text(job, code)
    session.expire(job)  # the row is written by the compare-and-set below, not by the ORM
    return finish_attempt(
        session=session, job_id=job_id, attempt=attempt, status=status, error=error
    )


def finish_attempt(
    *, session: Session, job_id: str, attempt: int, status: JobStatus, error: str | None
) -> bool:
    """End the job only if `attempt` still runs it: a compare-and-set in one UPDATE."""
    ended = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempt == attempt, Job.status == JobStatus.TRAINING.value)
        .values(status=status.value, error=error, finished_at=utcnow(), pid=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return ended.rowcount == 1


def _failure_text(job: Job, code: int | None) -> str:
    """Why a job failed (the trainer's own error when it gave one), then the end of its log."""
    job_dir = Path(job.output_dir)
    summary = _exit_summary(code)
    if code is not None and code > 0:
        summary = failures.cause(runfiles.log_tail(job_dir, CAUSE_LINES)) or summary
    if code == runfiles.EXIT_OUT_OF_MEMORY:
        longest = runfiles.longest_clip_seconds(job_dir)
        summary = failures.out_of_memory(job.params, longest, summary)
    return f"{summary}\n{runfiles.log_tail(job_dir, TAIL_LINES)}".strip()


def _exit_summary(code: int | None) -> str:
    """How the training process ended, from its exit code."""
    if code == 0:
        return "training ended without producing config.json and best_model.pth"
    if code is not None and code < 0:
        return f"training process was killed by {signal.Signals(-code).name}"
    return f"training process exited with code {code}"


def fail(*, session: Session, job_id: str, error: str, attempt: int | None = None) -> None:
    """Mark a job failed, if it still exists, has not ended and (given one) is still attempt."""
    job = session.get(Job, job_id)
    if job is None or job.status not in (JobStatus.PENDING, JobStatus.TRAINING):
        return
    if attempt is not None and job.attempt != attempt:
        return  # taken over: the failure was this worker's, not the job's
    finish(job, JobStatus.FAILED, error=error)
    session.commit()


def finish(job: Job, status: JobStatus, *, error: str | None) -> None:
    """Move a job to a terminal status."""
    job.status, job.error, job.finished_at = status.value, error, utcnow()
    job.pid = None


def training_jobs(*, session: Session) -> list[Job]:
    """The jobs marked training, whichever worker runs them."""
    return list(session.scalars(select(Job).where(Job.status == JobStatus.TRAINING.value)))


def pending_ids(*, session: Session) -> list[str]:
    """The ids of the jobs waiting for a worker, oldest first."""
    query = select(Job.id).where(Job.status == JobStatus.PENDING.value).order_by(Job.created_at)
    return list(session.scalars(query))
