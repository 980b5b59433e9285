"""A real cluster: `serve --no-worker` and two `voicesmith worker` processes on Postgres and Redis.

Two tiny jobs in all: they run side by side on the two workers; one worker is killed
mid-job, its job is declared lost and resumes on the other, across a Redis restart.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import start_server, stop_server, upload_clips
from tests.jobs import at_step, status_is
from tests.scale.conftest import scale_env
from tests.slow.conftest import Api
from voicesmith.db import make_engine, make_sessionmaker, run_migrations, session_scope
from voicesmith.training.models import Job, Worker


def start_worker(data_dir: Path, env: dict[str, str], *extra: str) -> subprocess.Popen:
    """A standalone `voicesmith worker`, its output kept in a file for failure reports."""
    cmd = [sys.executable, "-m", "voicesmith", "worker", "--data-dir", str(data_dir), *extra]
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(cmd, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    proc.output = output
    return proc


@pytest.fixture
def cluster(tmp_path, scale_settings, speech_clips) -> Iterator[tuple[Api, list]]:
    """An API without a worker, two single-GPU-slot workers, and a 10-clip dataset `lj`."""
    # Two workers share the CPU: one training thread each, as docs/DEPLOY.md advises; on torch's
    # default (every core for every job) two workers ran tiny jobs 3x slower than that.
    env = {**scale_env(scale_settings), "VOICESMITH_TRAINING_THREADS": "1"}
    data_dir = tmp_path / "var"
    api_proc, base = start_server(data_dir, env, "--no-worker")
    workers = [start_worker(data_dir, env, "--gpus", gpu) for gpu in ("0", "1")]
    try:
        api = Api(base, data_dir)
        upload_clips(api.client, api.headers, speech_clips[:10], "lj")
        yield api, workers
    finally:
        for proc in workers:
            stop_server(proc) if proc.poll() is None else proc.output.close()
        stop_server(api_proc)


def test_two_workers_share_jobs_and_a_lost_job_resumes_on_the_survivor(
    cluster, redis_server, scale_settings
):
    api, workers = cluster
    first = api.start(epochs=2, save_every_steps=2)
    second = api.start(epochs=1)
    jobs = [api.wait(j, at_step(1)) for j in (first, second)]
    assert jobs[0]["worker_id"] != jobs[1]["worker_id"]
    assert {j["gpus"] for j in jobs} == {"0", "1"}

    victim = api.wait(first, at_step(3))
    trainer = _training_pid(scale_settings, first)
    killed = next(w for w in workers if victim["worker_id"].endswith(f":{w.pid}"))
    killed.send_signal(signal.SIGKILL)
    lost = api.wait(first, status_is("failed"), timeout=60)
    assert lost["error"].startswith("worker lost"), lost["error"]
    assert _gone(trainer)

    redis_server.restart(down_seconds=1.0)
    assert api.post(first, "resume").status_code == 200
    resumed = api.wait(first)
    assert resumed["worker_id"] != victim["worker_id"] and resumed["attempts"] == 1
    assert api.wait(second)["status"] == "completed"
    assert 'voicesmith_jobs{status="completed"} 2.0' in _metrics(api)


def _training_pid(settings, job_id: str) -> int:
    """The training process's pid, from the worker's record of it."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            return session.get(Job, job_id).pid
    finally:
        engine.dispose()


def _metrics(api: Api) -> str:
    """The API's /metrics text."""
    return api.client.get("/metrics", headers=api.headers).text


def _gone(pid: int, timeout: float = 30) -> bool:
    """Wait until a process is gone (or a zombie nobody reaps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.2)
    return False


def test_a_worker_runs_one_slot_per_gpu_and_retires_when_stopped(tmp_path, scale_settings):
    engine = make_engine(scale_settings.resolved_database_url)
    run_migrations(engine)  # alongside the worker's own: the advisory lock serialises them
    sessions = make_sessionmaker(engine)
    worker = start_worker(tmp_path / "var", scale_env(scale_settings), "--gpus", "0,1")
    try:
        row = _wait_row(sessions, lambda rows: rows)
        assert row[0].gpus == "0,1" and row[0].pid == worker.pid
        os.kill(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        assert _wait_row(sessions, lambda rows: not rows) == []
    finally:
        stop_server(worker) if worker.poll() is None else worker.output.close()
        engine.dispose()


def _wait_row(sessions, until, timeout: float = 30) -> list[Worker]:
    """Poll the workers table until `until(rows)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(sessions) as session:
            rows = list(session.scalars(select(Worker)))
        if until(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)
