"""A real cluster: `serve --no-worker` and two `voicesmith worker` processes on Postgres and Redis.

Two tiny jobs run side by side on the two workers; one worker is killed mid-job, and its
job is taken over by the other, across a Redis restart, with no API call. A frozen worker
that wakes after its job was taken over writes nothing more. A job whose queue entry was
lost is found by the sweep and trained once.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from tests.conftest import start_server, stop_server, upload_clips
from tests.fencing import folder_state
from tests.jobs import at_step
from tests.scale.conftest import SWEEP_SECONDS, scale_env
from tests.slow.conftest import Api
from voicesmith.db import make_engine, make_sessionmaker, run_migrations, session_scope
from voicesmith.engines import runfiles
from voicesmith.training import service
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
    # Each its own host name, as on two machines: a worker then never kills the other's trainer
    # itself, so a frozen one can wake up and must be stopped by fencing alone.
    workers = [
        start_worker(data_dir, {**env, "VOICESMITH_WORKER_HOST": f"node{gpu}"}, "--gpus", gpu)
        for gpu in ("0", "1")
    ]
    try:
        api = Api(base, data_dir)
        upload_clips(api.client, api.headers, speech_clips[:10], "lj")
        yield api, workers
    finally:
        for proc in workers:
            stop_server(proc) if proc.poll() is None else proc.output.close()
        stop_server(api_proc)


def test_two_workers_share_jobs_and_a_lost_job_is_taken_over_by_the_survivor(
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
    _worker_of(victim, workers).send_signal(signal.SIGKILL)
    assert _gone(trainer)  # it noticed its worker die, saved and stopped
    # Redis restarts empty meanwhile: the takeover must not depend on what it held.
    redis_server.restart(down_seconds=1.0)
    resumed = api.wait(first, timeout=240)  # no API call: the job is taken over by itself
    assert resumed["worker_id"] != victim["worker_id"]
    assert (resumed["attempt"], resumed["attempts"]) == (2, 1)
    assert len([w for w in resumed["warnings"] or [] if "taken over" in w]) == 1
    assert api.wait(second)["status"] == "completed"
    assert 'voicesmith_jobs{status="completed"} 2.0' in _metrics(api)


def test_a_frozen_worker_that_wakes_taken_over_never_writes_the_job_folder_again(
    cluster, scale_settings
):
    api, workers = cluster
    job_id = api.start(epochs=8, save_every_steps=2)
    before = api.wait(job_id, at_step(3))  # a checkpoint of step 2 is saved
    job_dir = Path(_row(scale_settings, job_id).output_dir)
    frozen_worker = _worker_of(before, workers)
    frozen_trainer = _training_pid(scale_settings, job_id)
    try:
        _freeze_between_writes(frozen_worker.pid, frozen_trainer, job_dir)
        # No API call: the job is found lost, queued again and claimed by the other worker.
        step = before["progress"]["step"]
        taken = api.wait(job_id, lambda j: _training_again(j, before, step), timeout=240)
        assert taken["attempt"] == 2
        # Hold the new attempt still, so that any change in the folder is the old one's.
        new_trainer = _training_pid(scale_settings, job_id)
        os.killpg(new_trainer, signal.SIGSTOP)
        try:
            snapshot = folder_state(job_dir)
            os.kill(frozen_worker.pid, signal.SIGCONT)
            os.killpg(frozen_trainer, signal.SIGCONT)
            assert _gone(frozen_trainer, timeout=15)  # it stopped at its first check
            time.sleep(3)  # past the child's one-second check, and the old worker's poll
            assert folder_state(job_dir) == snapshot
        finally:
            os.killpg(new_trainer, signal.SIGCONT)
    finally:  # a failed assertion must not leave processes stopped
        with contextlib.suppress(ProcessLookupError):
            os.kill(frozen_worker.pid, signal.SIGCONT)
            os.killpg(frozen_trainer, signal.SIGCONT)
    done = api.wait(job_id, timeout=300)
    assert done["worker_id"] == taken["worker_id"] != before["worker_id"]
    assert (done["attempt"], done["attempts"]) == (2, 1)
    log = runfiles.log_path(job_dir).read_text(encoding="utf-8")
    assert log.count("taken over") == 1, log
    assert log.count("training starts on") == 2
    assert frozen_worker.poll() is None  # it woke, saw the job was not its own, and runs on


def _freeze_between_writes(worker: int, trainer: int, job_dir: Path) -> None:
    """SIGSTOP a worker and its trainer at a moment when no file of the job is half-written."""
    # A write already under way when a process freezes completes when it wakes: fencing
    # checks before each write, and the filesystem has no token to check within one. Every
    # write that takes long (checkpoints, samples, the export) fills a *.part file first;
    # the rest are single appends and replaces of a few bytes.
    for _ in range(50):
        os.kill(worker, signal.SIGSTOP)
        os.killpg(trainer, signal.SIGSTOP)
        if not any(job_dir.rglob("*.part")):
            return
        os.killpg(trainer, signal.SIGCONT)
        os.kill(worker, signal.SIGCONT)
        time.sleep(0.2)
    raise AssertionError("the trainer was writing a file at every try")


def _training_again(job: dict, before: dict, step: int) -> bool:
    """The job trains on another worker, past the step the frozen one had reached."""
    moved = job["status"] == "training" and job["worker_id"] != before["worker_id"]
    return moved and (job["progress"] or {}).get("step", 0) > step


def test_a_pending_job_the_queue_lost_is_trained_once_within_two_sweeps(cluster, scale_settings):
    api, _ = cluster
    # Committed but never queued, as when Redis restarts without persistence after the
    # API queued it: the row is the record of truth, the queue entry is gone.
    engine = make_engine(scale_settings.resolved_database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            request = {"dataset_name": "lj", "base_model": "scratch:tiny", "epochs": 1}
            request["batch_size"] = 4
            job_id = service.submit(session=session, settings=scale_settings, request=request).id
    finally:
        engine.dispose()
    redis.Redis.from_url(scale_settings.queue_url).flushall()  # the workers keep running
    done = api.wait(job_id, timeout=300)
    row = _row(scale_settings, job_id)
    waited = (row.started_at - row.created_at).total_seconds()
    # Queued again by the first sweep after it is one period old; +1 s for the tick.
    assert waited <= 2 * SWEEP_SECONDS + 1, waited
    assert (done["attempt"], done["attempts"]) == (1, 0)
    # Consent's warning (VOICESMITH_CONSENT=warn) is the only one: no takeover was needed.
    assert [w for w in done["warnings"] if "verified consent" not in w] == [], done["warnings"]
    log = runfiles.log_path(Path(row.output_dir)).read_text(encoding="utf-8")
    assert log.count("training starts on") == 1, log  # exactly once: the duplicates skipped


def _worker_of(job: dict, workers: list[subprocess.Popen]) -> subprocess.Popen:
    """The worker process running a job."""
    return next(w for w in workers if job["worker_id"].endswith(f":{w.pid}"))


def _row(settings, job_id: str) -> Job:
    """A job's row, read afresh."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            row = session.get(Job, job_id)
            session.expunge(row)
            return row
    finally:
        engine.dispose()


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
