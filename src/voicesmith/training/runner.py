"""The worker side of a job: start the training process, watch it, and record how it ended."""

import contextlib
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from voicesmith.config import Settings
from voicesmith.db import session_scope, utcnow
from voicesmith.engines import runfiles
from voicesmith.training import worker
from voicesmith.training.models import JobStatus

log = logging.getLogger("voicesmith.runner")
POLL_SECONDS = 0.5
# Started as a child process, never imported: torch stays out of the worker.
TRAINER_MODULE = "voicesmith.engines.training"
# What a trainer's command line contains; also matches trainers started before the move.
TRAINER_MARK = "voicesmith.engines.train"


@dataclass
class WorkerContext:
    """What a worker needs to run jobs: settings, a database, and a stop signal."""

    settings: Settings
    sessions: sessionmaker[Session]
    worker_id: str
    stop_event: threading.Event = field(default_factory=threading.Event)
    env: dict[str, str] = field(default_factory=dict)
    gpus: tuple[str, ...] = ()
    free_gpus: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    heartbeat: threading.Thread | None = None

    def __post_init__(self) -> None:
        for gpu in self.gpus:
            self.free_gpus.put(gpu)

    def retire(self, timeout: float = 10) -> None:
        """Stop, and let the heartbeat remove this worker's row before the process ends."""
        self.stop_event.set()
        # The heartbeat is a daemon thread: without the join, a process that exits at once
        # (a worker stopped by SIGTERM) kills it before it retires, and the row lingers.
        if self.heartbeat is not None:
            self.heartbeat.join(timeout)

    @contextlib.contextmanager
    def gpu_slot(self) -> Iterator[str | None]:
        """A GPU of this worker for one job, or None when the worker names no GPUs."""
        if not self.gpus:
            yield None
            return
        # One consumer thread per GPU, so a GPU is always free when a thread asks.
        gpu = self.free_gpus.get()
        try:
            yield gpu
        finally:
            self.free_gpus.put(gpu)


def run_job(ctx: WorkerContext, job_id: str) -> None:
    """Run one job to a terminal status; it never stays `training` when this returns."""
    claimed = None
    try:
        with ctx.gpu_slot() as gpu:
            claimed = _claim(ctx, job_id, gpu)
            if claimed is None:
                return
            _run_claimed(ctx, job_id, claimed, gpu)
    except runfiles.StaleAttempt as exc:  # taken over while cut off: the job is not ours
        log.warning("job %s: %s; this worker stops it", job_id, exc)
    except Exception as exc:  # the job row must not be left `training`, whatever broke
        log.exception("job %s crashed in the supervisor", job_id)
        attempt = claimed.attempt if claimed is not None else None
        _fail(ctx, job_id, f"the worker could not run the job: {exc}", attempt)
    finally:
        if claimed is not None:
            runfiles.release(claimed.job_dir, claimed.attempt)


def _run_claimed(ctx: WorkerContext, job_id: str, claimed: worker.Claimed, gpu: str | None) -> None:
    """Train a claimed job, smaller after running out of memory, and record how it ended."""
    proc = _spawn(ctx, job_id, claimed.job_dir, gpu)
    reason = _watch(ctx, job_id, claimed.attempt, proc)
    while _ran_out_of_memory(proc, reason) and _continue_smaller(ctx, job_id, claimed.attempt):
        proc = _spawn(ctx, job_id, claimed.job_dir, gpu)
        reason = _watch(ctx, job_id, claimed.attempt, proc)
    _record_outcome(ctx, job_id, claimed.attempt, proc.returncode, reason)


def _ran_out_of_memory(proc: subprocess.Popen, reason: str | None) -> bool:
    """Whether the training process ended by running out of memory, on its own."""
    return reason is None and proc.returncode == runfiles.EXIT_OUT_OF_MEMORY


def _continue_smaller(ctx: WorkerContext, job_id: str, attempt: int) -> bool:
    """Rewrite the job to continue at half the batch size; False when it may not shrink."""
    with session_scope(ctx.sessions) as session:
        return worker.continue_smaller(
            session=session, settings=ctx.settings, job_id=job_id, attempt=attempt
        )


def _claim(ctx: WorkerContext, job_id: str, gpu: str | None) -> worker.Claimed | None:
    """Move a pending job to training as a new attempt; None if it is not pending."""
    with session_scope(ctx.sessions) as session:
        claimed = worker.claim(
            session=session, settings=ctx.settings, job_id=job_id, worker_id=ctx.worker_id, gpu=gpu
        )
    if claimed is None:
        log.info("skipping job %s: no longer pending", job_id)
    return claimed


def _spawn(ctx: WorkerContext, job_id: str, job_dir: Path, gpu: str | None) -> subprocess.Popen:
    """Start the training process in its own process group, logging to train.log."""
    log_file = runfiles.open_log(job_dir)
    started = f"=== {utcnow():%Y-%m-%d %H:%M:%S} UTC: training starts on {ctx.worker_id}\n"
    runfiles.append_log_bytes(log_file, job_dir, started.encode())
    env = {**os.environ, **ctx.env, "PYTHONUNBUFFERED": "1", **_thread_env(ctx.settings)}
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    command = [sys.executable, "-m", TRAINER_MODULE, str(job_dir)]
    with log_file:
        proc = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    _lower_priority(proc, ctx.settings.training_nice)
    with session_scope(ctx.sessions) as session:
        worker.record_pid(session=session, job_id=job_id, pid=proc.pid)
    return proc


def _thread_env(settings: Settings) -> dict[str, str]:
    """OMP_NUM_THREADS for the training process, which torch reads when it starts."""
    threads = settings.training_threads
    return {"OMP_NUM_THREADS": str(threads)} if threads else {}


def _lower_priority(proc: subprocess.Popen, nice: int) -> None:
    """Renice the training process group; threads and loaders it starts later inherit it."""
    # After Popen rather than in preexec_fn, which is unsafe in a threaded worker.
    # Never above the worker's own priority: a worker already niced keeps its job below it.
    nice = max(nice, os.getpriority(os.PRIO_PROCESS, 0))
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.setpriority(os.PRIO_PGRP, proc.pid, nice)


def _watch(ctx: WorkerContext, job_id: str, attempt: int, proc: subprocess.Popen) -> str | None:
    """Copy progress into the row until the process ends; returns why we stopped it, if we did."""
    reason = None
    while proc.poll() is None:
        stopping = ctx.stop_event.wait(POLL_SECONDS)
        reason = "worker" if stopping else _sync_progress(ctx, job_id, attempt)
        if reason:
            # A taken-over trainer has stopped by itself (it checks its attempt), or will.
            stop_process_group(proc, ctx.settings.cancel_grace_seconds)
    stop_process_group(proc, 0)
    _sync_progress(ctx, job_id, attempt)  # a job taken over meanwhile: the outcome's CAS says
    return reason


def _sync_progress(ctx: WorkerContext, job_id: str, attempt: int) -> str | None:
    """Store the latest progress; returns "cancelled" or "taken" when the job must stop."""
    with session_scope(ctx.sessions) as session:
        return worker.sync_progress(
            session=session, job_id=job_id, worker_id=ctx.worker_id, attempt=attempt
        )


def stop_process_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group, give it `grace` seconds to save, then SIGKILL what is left."""
    _signal_group(proc.pid, signal.SIGTERM if grace else signal.SIGKILL)
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _record_outcome(
    ctx: WorkerContext, job_id: str, attempt: int, code: int | None, reason: str | None
) -> None:
    """Turn the exit code and stop reason into the job's terminal status, if still ours."""
    with session_scope(ctx.sessions) as session:
        recorded = worker.record_outcome(
            session=session, job_id=job_id, attempt=attempt, code=code, reason=reason
        )
    if not recorded:
        log.warning("job %s: attempt %d was taken over; its end is not recorded", job_id, attempt)


def _fail(ctx: WorkerContext, job_id: str, error: str, attempt: int | None = None) -> None:
    """Mark a job failed, if it still exists (and, given one, still runs as attempt)."""
    with session_scope(ctx.sessions) as session:
        worker.fail(session=session, job_id=job_id, error=error, attempt=attempt)


def worker_identity(host: str | None = None) -> str:
    """host:pid, which names this worker in job rows; host is the machine's name by default."""
    return f"{host or socket.gethostname()}:{os.getpid()}"


def recover_orphans(ctx: WorkerContext) -> list[str]:
    """Fail jobs left `training` by a worker on this host that is gone; returns their ids."""
    host = ctx.worker_id.rsplit(":", 1)[0]
    recovered = []
    with session_scope(ctx.sessions) as session:
        for job in worker.training_jobs(session=session):
            owner_host, _, owner_pid = (job.worker_id or ":").rpartition(":")
            if owner_host != host or _is_live_worker(owner_pid):
                continue
            kill_if_training(job.pid)
            worker.finish(job, JobStatus.FAILED, error=worker.WORKER_STOPPED)
            recovered.append(job.id)
        session.commit()
    return recovered


def pending_jobs(ctx: WorkerContext) -> list[str]:
    """The ids of the jobs waiting for a worker, oldest first."""
    with session_scope(ctx.sessions) as session:
        return worker.pending_ids(session=session)


def _is_live_worker(pid_text: str) -> bool:
    """Whether pid is a running voicesmith process other than this one."""
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    return "voicesmith" in _cmdline(int(pid_text))


def kill_if_training(pid: int | None) -> None:
    """Kill an orphaned training process group, if that pid is still one of ours."""
    if pid and TRAINER_MARK in _cmdline(pid):
        _signal_group(pid, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    """A process's command line, or '' when it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
