"""One job-update feed: what changed in a job's row, poll by poll, until the job ends."""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from voicesmith.db import session_scope
from voicesmith.errors import NotFound
from voicesmith.training.models import ACTIVE, Job
from voicesmith.training.service import can_resume

DELETED = "deleted"
REPORTED = ("status", "progress")


@dataclass(frozen=True)
class JobUpdate:
    """One poll of a job: its state (None once deleted) and which reported parts changed."""

    job_id: str
    state: dict[str, object] | None
    changed: tuple[str, ...]

    @property
    def status(self) -> str:
        """The job's status, or 'deleted' once its row is gone."""
        return DELETED if self.state is None else str(self.state["status"])

    @property
    def progress(self) -> dict:
        """The job's progress record: percent, losses, ..."""
        return (self.state or {}).get("progress") or {}

    @property
    def ended(self) -> bool:
        """Whether the job will not change any more."""
        return self.status not in ACTIVE

    def data(self) -> dict[str, object]:
        """The update as the event stream sends it."""
        return {"job_id": self.job_id, **(self.state or {"status": DELETED})}


def job_updates(*, sessions: sessionmaker[Session], job_id: str) -> Iterator[JobUpdate]:
    """A feed of a job's updates; each next() reads the row once, the caller paces the polls."""
    # Checked before the first poll, so an unknown job is refused rather than streamed.
    if _state(sessions, job_id) is None:
        raise NotFound(f"job '{job_id}' does not exist")
    return _updates(sessions, job_id)


def _updates(sessions: sessionmaker[Session], job_id: str) -> Iterator[JobUpdate]:
    """Read the row on each next() and say what changed; stops after the job ends."""
    last: dict[str, object] = {}
    while True:
        state = _state(sessions, job_id)
        if state is None:
            yield JobUpdate(job_id, None, ("status",))
            return
        changed = tuple(kind for kind in REPORTED if state[kind] != last.get(kind))
        last.update({kind: state[kind] for kind in changed})
        update = JobUpdate(job_id, state, changed)
        yield update
        if update.ended:
            return


def _state(sessions: sessionmaker[Session], job_id: str) -> dict[str, object] | None:
    """The parts of a job that updates report, from a short session of their own."""
    with session_scope(sessions) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        state = {"status": job.status, "progress": job.progress, "error": job.error}
        return {**state, "can_resume": can_resume(job)}
