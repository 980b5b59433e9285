"""Worker heartbeats, taking over the jobs of workers that went silent, and the queue sweep."""

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.config import Settings
from voicesmith.db import session_scope, utcnow
from voicesmith.engines import runfiles
from voicesmith.training.models import Job, JobStatus, Worker
from voicesmith.training.worker import TAKEOVER_PARAM, finish

log = logging.getLogger("voicesmith.liveness")
# Rows of dead workers stay a while so an admin can see what was lost, then go.
FORGET_AFTER_TIMEOUTS = 10
WORKER_LOST = "worker lost: {worker} sent no heartbeat for {seconds:.0f} s; resume the job"


def beat(*, session: Session, worker_id: str, gpus: str | None) -> None:
    """Record that this worker is alive now."""
    row = session.get(Worker, worker_id)
    if row is None:
        host, _, pid = worker_id.rpartition(":")
        row = Worker(id=worker_id, host=host, pid=int(pid or 0), gpus=gpus)
        session.add(row)
    row.last_seen = utcnow()
    session.commit()


def retire(*, session: Session, worker_id: str) -> None:
    """Remove a worker that stops cleanly, so it is not counted as live."""
    session.execute(delete(Worker).where(Worker.id == worker_id))
    session.commit()


def count_live(*, session: Session, settings: Settings) -> int:
    """How many workers sent a heartbeat within the timeout."""
    cutoff = utcnow() - timedelta(seconds=settings.worker_timeout_seconds)
    return session.scalar(select(func.count()).where(Worker.last_seen >= cutoff)) or 0


@dataclass(frozen=True)
class Reaped:
    """The jobs of lost workers: those queued again to be taken over, and those failed."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def reap_lost(*, session: Session, settings: Settings) -> Reaped:
    """Queue again (or, past max_attempts, fail) the jobs whose worker went silent too long."""
    cutoff = utcnow() - timedelta(seconds=settings.worker_timeout_seconds)
    training = select(Job).where(Job.status == JobStatus.TRAINING.value)
    reaped = Reaped()
    for job in session.scalars(training.with_for_update(skip_locked=True)):
        worker = session.get(Worker, job.worker_id) if job.worker_id else None
        # No row: a worker that retired while stopping; it had its grace to record the end.
        last_seen = worker.last_seen if worker is not None else job.updated_at
        if last_seen >= cutoff:
            continue
        _kill_local_trainer(job, settings)
        lost = WORKER_LOST.format(worker=job.worker_id, seconds=settings.worker_timeout_seconds)
        if job.attempt < settings.max_attempts and not job.cancel_requested:
            take_over(job, lost, settings.max_attempts)
            reaped.requeued.append(job.id)
        else:
            error = f"{lost} (attempt {job.attempt} of at most {settings.max_attempts})"
            finish(job, JobStatus.FAILED, error=error)
            reaped.failed.append(job.id)
    forget = utcnow() - timedelta(seconds=settings.worker_timeout_seconds * FORGET_AFTER_TIMEOUTS)
    session.execute(delete(Worker).where(Worker.last_seen < forget))
    session.commit()
    return reaped


def take_over(job: Job, lost: str, max_attempts: int) -> None:
    """Make a lost job pending again, to resume from its newest checkpoint on any worker."""
    said = (
        f"WARNING: taken over: {lost.split(';')[0]}; attempt {job.attempt + 1} of at most "
        f"{max_attempts} continues from the newest checkpoint"
    )
    resume = runfiles.has_checkpoint(Path(job.output_dir))  # else it starts again from step 0
    job.status, job.error, job.pid = JobStatus.PENDING.value, None, None
    job.params = {**job.params, "resume": resume, TAKEOVER_PARAM: said}
    job.warnings = [*(job.warnings or []), said]
    job.attempts += 1  # a resume, as an admin's would be


def _kill_local_trainer(job: Job, settings: Settings) -> None:
    """Kill the lost job's training process when it ran on this host and still runs."""
    from voicesmith.training import runner

    host = (job.worker_id or "").rpartition(":")[0]
    if host == (settings.worker_host or socket.gethostname()):
        runner.kill_if_training(job.pid)


def stranded(*, session: Session, settings: Settings, queued: set[str]) -> list[str]:
    """Pending jobs older than a sweep period that are in no queue, oldest first."""
    cutoff = utcnow() - timedelta(seconds=settings.queue_sweep_seconds)
    query = (
        select(Job.id)
        .where(Job.status == JobStatus.PENDING.value, Job.updated_at < cutoff)
        .order_by(Job.created_at)
    )
    return [job_id for job_id in session.scalars(query) if job_id not in queued]


class JobQueue(Protocol):
    """The training queue as the heartbeat uses it: what it holds, and adding a job id."""

    def queued(self) -> set[str]:
        """The job ids waiting in the queue."""

    def put(self, job_id: str) -> None:
        """Add a job id to the queue."""


class Heartbeat(threading.Thread):
    """Beats for a worker (when given one) and reaps lost workers' jobs until stopped."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        settings: Settings,
        stop_event: threading.Event,
        worker_id: str | None = None,
        gpus: str | None = None,
        queue: JobQueue | None = None,
    ) -> None:
        super().__init__(name="voicesmith-heartbeat", daemon=True)
        self.sessions, self.settings, self.stop_event = sessions, settings, stop_event
        self.worker_id, self.gpus, self.queue = worker_id, gpus, queue
        self.swept_at = time.monotonic()

    def run(self) -> None:
        """Tick every heartbeat interval; a database outage only skips ticks."""
        while True:
            try:
                self.tick()
            except Exception:  # the next tick retries; a dead heartbeat would look like a crash
                log.exception("heartbeat failed; retrying")
            if self.stop_event.wait(self.settings.worker_heartbeat_seconds):
                break
        if self.worker_id is not None:
            with session_scope(self.sessions) as session:
                retire(session=session, worker_id=self.worker_id)

    def tick(self) -> None:
        """One heartbeat, one search for lost workers, and a sweep of the queue when due."""
        with session_scope(self.sessions) as session:
            if self.worker_id is not None:
                beat(session=session, worker_id=self.worker_id, gpus=self.gpus)
            reaped = reap_lost(session=session, settings=self.settings)
        for job_id in reaped.failed:
            log.warning("job %s failed: its worker was lost, and it had its last attempt", job_id)
        for job_id in reaped.requeued:
            log.warning("job %s: its worker was lost; queued again to be taken over", job_id)
            if self.queue is not None:  # an API without a queue leaves it to a worker's sweep
                self.queue.put(job_id)
        if self.queue is not None and self.worker_id is not None and self._sweep_due():
            self.sweep(self.queue)

    def _sweep_due(self) -> bool:
        """Whether a sweep period passed since the last sweep."""
        if time.monotonic() - self.swept_at < self.settings.queue_sweep_seconds:
            return False
        self.swept_at = time.monotonic()
        return True

    def sweep(self, queue: "JobQueue") -> list[str]:
        """Queue again the pending jobs that no queue holds; a duplicate is skipped at claim."""
        queued = queue.queued()
        with session_scope(self.sessions) as session:
            found = stranded(session=session, settings=self.settings, queued=queued)
        for job_id in found:
            log.warning("job %s was pending in no queue; queued again", job_id)
            queue.put(job_id)
        return found
