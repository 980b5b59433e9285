"""Waiting on training jobs, for tests and benchmarks: a job that ends badly stops the wait."""

import time
from collections.abc import Callable

import httpx

JOBS = "/api/v1/admin/training/jobs"
TERMINAL = frozenset({"completed", "failed", "cancelled"})
Predicate = Callable[[dict], bool]


class JobEnded(AssertionError):
    """A job reached an end the waiter was not waiting for; the message carries its error."""


def done(job: dict) -> bool:
    """The job has ended, however it ended."""
    return job["status"] in TERMINAL


def completed(job: dict) -> bool:
    """The job has completed."""
    return job["status"] == "completed"


def status_is(status: str) -> Predicate:
    """The job has this status."""
    return lambda job: job["status"] == status


def at_step(n: int) -> Predicate:
    """The job is training and has run at least n steps."""
    return lambda job: job["status"] == "training" and (job["progress"] or {}).get("step", 0) >= n


def describe(job: dict) -> str:
    """A job's status and error, as a failure message shows them."""
    return f"job {job.get('job_id')} is {job.get('status')}; its error:\n{job.get('error')}"


def wait_for(
    fetch: Callable[[], dict], until: Predicate, *, timeout: float = 420, interval: float = 0.25
) -> dict:
    """Poll fetch() until `until` holds; raise JobEnded at once if the job ends otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        job = fetch()
        if until(job):
            return job
        # An ended job never changes again (resume makes a new wait), so waiting on is futile.
        if done(job):
            raise JobEnded(f"stopped waiting: {describe(job)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s: {describe(job)}")
        time.sleep(interval)


def wait_for_job(
    client: httpx.Client, headers: dict, job_id: str, until: Predicate = completed, **kwargs
) -> dict:
    """Poll one job over the API until `until` holds; fail fast with its error otherwise."""

    def fetch() -> dict:
        response = client.get(f"{JOBS}/{job_id}", headers=headers)
        response.raise_for_status()
        return response.json()

    return wait_for(fetch, until, **kwargs)
