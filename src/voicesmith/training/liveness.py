"""Worker heartbeats in the database, and failing the jobs of workers that went silent."""

import logging
import socket
import threading
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.config import Settings
from voicesmith.db import session_scope, utcnow
from voicesmith.training.models import Job, JobStatus, Worker
from voicesmith.training.worker import finish

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


def reap_lost(*, session: Session, settings: Settings) -> list[str]:
    """Fail the training jobs whose worker went silent past the timeout; returns their ids."""
    cutoff = utcnow() - timedelta(seconds=settings.worker_timeout_seconds)
    training = select(Job).where(Job.status == JobStatus.TRAINING.value)
    lost = []
    for job in session.scalars(training.with_for_update(skip_locked=True)):
        worker = session.get(Worker, job.worker_id) if job.worker_id else None
        # No row: a worker that retired while stopping; it had its grace to record the end.
        last_seen = worker.last_seen if worker is not None else job.updated_at
        if last_seen >= cutoff:
            continue
        _kill_local_trainer(job)
        error = WORKER_LOST.format(worker=job.worker_id, seconds=settings.worker_timeout_seconds)
        finish(job, JobStatus.FAILED, error=error)
        lost.append(job.id)
    forget = utcnow() - timedelta(seconds=settings.worker_timeout_seconds * FORGET_AFTER_TIMEOUTS)
    session.execute(delete(Worker).where(Worker.last_seen < forget))
    session.commit()
    return lost


def _kill_local_trainer(job: Job) -> None:
    """Kill the lost job's training process when it ran on this host and still runs."""
    from voicesmith.training import runner

    host = (job.worker_id or "").rpartition(":")[0]
    if host == socket.gethostname():
        runner.kill_if_training(job.pid)


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
    ) -> None:
        super().__init__(name="voicesmith-heartbeat", daemon=True)
        self.sessions, self.settings, self.stop_event = sessions, settings, stop_event
        self.worker_id, self.gpus = worker_id, gpus

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
        """One heartbeat, then one search for lost workers."""
        with session_scope(self.sessions) as session:
            if self.worker_id is not None:
                beat(session=session, worker_id=self.worker_id, gpus=self.gpus)
            for job_id in reap_lost(session=session, settings=self.settings):
                log.warning("job %s failed: its worker was lost", job_id)
