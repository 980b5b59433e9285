"""The app on real PostgreSQL and Redis: migrations, the API, the queue and worker liveness."""

import time
from datetime import timedelta

import redis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import login, upload_clips
from voicesmith.db import (
    Base,
    make_engine,
    make_sessionmaker,
    run_migrations,
    session_scope,
    utcnow,
)
from voicesmith.training import liveness
from voicesmith.training.models import Job, JobStatus, Worker

START = "/api/v1/admin/training/start"
JOBS = "/api/v1/admin/training/jobs"


def test_migrations_build_exactly_the_models_on_postgres(pg_url):
    engine = make_engine(pg_url)
    try:
        run_migrations(engine)
        run_migrations(engine)  # a second start finds the head and changes nothing
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_api_on_postgres_queues_jobs_in_redis(scale_client, scale_settings, speech_clips):
    headers = login(scale_client, "admin", "test-admin-password")
    upload_clips(scale_client, headers, speech_clips[:10], "lj")
    listed = scale_client.get("/api/v1/admin/training/datasets", headers=headers).json()
    assert [(d["name"], d["audio_count"]) for d in listed["datasets"]] == [("lj", 10)]
    body = {"dataset_name": "lj", "epochs": 1, "base_model": "scratch:tiny"}
    job_id = scale_client.post(START, json=body, headers=headers).json()["job_id"]
    queue = redis.Redis.from_url(scale_settings.queue_url)
    assert queue.llen("huey.redis.voicesmith") == 1
    cancelled = scale_client.post(f"/api/v1/admin/training/jobs/{job_id}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled"


def _stale_job(session, job_id: str, worker_id: str, seen_ago: float, attempt: int = 1) -> None:
    """A training job, in its attempt, owned by a worker last seen seen_ago seconds ago."""
    host, _, pid = worker_id.rpartition(":")
    seen = utcnow() - timedelta(seconds=seen_ago)
    session.add(Worker(id=worker_id, host=host, pid=int(pid), last_seen=seen))
    session.add(
        Job(
            id=job_id,
            dataset_name="lj",
            params={"epochs": 1},
            output_dir="/nonexistent",
            status=JobStatus.TRAINING.value,
            worker_id=worker_id,
            attempt=attempt,
        )
    )
    session.commit()


def test_the_api_takes_over_jobs_of_silent_workers_until_the_last_attempt(
    scale_client, scale_settings
):
    headers = login(scale_client, "admin", "test-admin-password")
    sessions = make_sessionmaker(scale_client.app.state.engine)
    with session_scope(sessions) as session:
        _stale_job(session, "lj_lost", "elsewhere:101", seen_ago=60)
        _stale_job(session, "lj_spent", "elsewhere:103", seen_ago=60, attempt=3)
        _stale_job(session, "lj_alive", "elsewhere:102", seen_ago=1)
        assert liveness.count_live(session=session, settings=scale_settings) == 1
    # The API runs no worker here, so its own reaper must find the lost ones.
    lost = _wait_status(scale_client, headers, "lj_lost", "pending")
    assert lost["attempts"] == 1 and lost["error"] is None and lost["params"]["resume"] is False
    [said] = lost["warnings"]
    assert said.startswith("WARNING: taken over: worker lost: elsewhere:101"), said
    assert "attempt 2 of at most 3" in said
    queue = redis.Redis.from_url(scale_settings.queue_url)
    assert queue.llen("huey.redis.voicesmith") == 1  # queued for any live worker at once
    spent = _wait_status(scale_client, headers, "lj_spent", "failed")
    assert spent["error"].startswith("worker lost: elsewhere:103"), spent["error"]
    assert spent["error"].endswith("(attempt 3 of at most 3)") and not spent["warnings"]
    assert scale_client.get(f"{JOBS}/lj_alive", headers=headers).json()["status"] == "training"


def _wait_status(client, headers, job_id: str, status: str, timeout: float = 10) -> dict:
    """Poll a job until it has status."""
    deadline = time.monotonic() + timeout
    while (job := client.get(f"{JOBS}/{job_id}", headers=headers).json())["status"] != status:
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job
