"""A job's scored checkpoints: listing them, and promoting one to be the voice."""

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from voicesmith.auth import audit
from voicesmith.engines import runfiles, scores
from voicesmith.errors import Conflict, NotFound, Unavailable
from voicesmith.training.models import Job, JobStatus
from voicesmith.training.service import get_job

# A full-size export with its int8 calibration takes about a minute on 2 cores.
EXPORT_TIMEOUT = 900
ERROR_LINES = 5


def list_checkpoints(*, session: Session, job_id: str) -> dict[str, Any]:
    """checkpoints.json for the API: {promoted, checkpoints: [...]} with kept and sample names."""
    job = get_job(session=session, job_id=job_id)
    job_dir = Path(job.output_dir)
    record = runfiles.read_scores(job_dir)
    entries = [
        {**entry, "kept": runfiles.find_checkpoint(job_dir, entry["step"]) is not None}
        for entry in record["checkpoints"]
    ]
    rule = scores.promoted(record["checkpoints"])
    return {"promoted": record.get("promoted"), "rule": rule, "checkpoints": entries}


def promote(
    *, session: Session, job_id: str, step: int, actor: str | None = None
) -> dict[str, Any]:
    """Make a kept checkpoint the voice: exported now, or when a running job finishes."""
    job = get_job(session=session, job_id=job_id)
    job_dir = Path(job.output_dir)
    steps = {entry["step"] for entry in runfiles.read_scores(job_dir)["checkpoints"]}
    if step not in steps:
        raise NotFound(f"job '{job_id}' has no scored checkpoint at step {step}")
    if runfiles.find_checkpoint(job_dir, step) is None:
        raise NotFound(f"the checkpoint of step {step} was pruned; promote a kept one")
    if job.status == JobStatus.TRAINING:
        # The training process exports the promoted checkpoint when it finishes.
        runfiles.write_override(job_dir, step)
    elif job.status == JobStatus.COMPLETED:
        # The export takes up to a minute: a write transaction held that long would lock
        # SQLite for every other writer, the workers' heartbeats included.
        session.commit()
        _export(job, step)
    else:
        raise Conflict(f"job '{job_id}' is {job.status}; only finished or running jobs promote")
    detail = {"step": step, "status": job.status}
    audit.record_admin(
        session=session, actor=actor, action=audit.Action.PROMOTE, job_id=job_id, detail=detail
    )
    session.commit()
    return list_checkpoints(session=session, job_id=job_id)


def _export(job: Job, step: int) -> None:
    """Re-export the voice from the checkpoint in a child process: torch stays out of the API."""
    command = [sys.executable, "-m", "voicesmith.engines.export", job.output_dir]
    try:
        done = subprocess.run(  # noqa: S603 - our own module, arguments we built
            [*command, "--promote", str(step)],
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise Unavailable(f"exporting step {step} took over {EXPORT_TIMEOUT} s") from exc
    if done.returncode != 0:
        said = "\n".join((done.stderr or done.stdout).strip().splitlines()[-ERROR_LINES:])
        raise Unavailable(f"exporting step {step} failed: {said}")


def sample_file(*, session: Session, job_id: str, name: str) -> Path:
    """One evaluation sample's WAV."""
    job = get_job(session=session, job_id=job_id)
    path = runfiles.sample_path(Path(job.output_dir), name)
    if path is None:
        raise NotFound(f"job '{job_id}' has no sample '{name}'")
    return path
