"""`voicesmith train --follow`: a rich progress bar fed from the job row."""

import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.db import session_scope
from voicesmith.training.models import ACTIVE, Job

POLL_SECONDS = 1.0


def follow(sessions: sessionmaker[Session], job_id: str, console: Console) -> Job:
    """Show a job's progress until it ends; returns the final row."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[losses]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(job_id, total=100, losses="")
        while True:
            job = _load(sessions, job_id)
            progress = job.progress or {}
            bar.update(
                task,
                completed=progress.get("percent", 0.0),
                description=f"{job_id} [{job.status}]",
                losses=_losses(progress),
            )
            if job.status not in ACTIVE:
                return job
            time.sleep(POLL_SECONDS)


def _load(sessions: sessionmaker[Session], job_id: str) -> Job:
    """A fresh copy of the job row."""
    with session_scope(sessions) as session:
        return session.get_one(Job, job_id)


def _losses(progress: dict) -> str:
    """The first few losses, short."""
    losses = progress.get("losses") or {}
    return " ".join(f"{k}={v:.3g}" for k, v in list(losses.items())[:3])
