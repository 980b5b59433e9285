"""Dry runs, the worker side: run a queued estimate's probe as a child process, between jobs."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from voicesmith.engines import runfiles
from voicesmith.training import estimates, failures, runner, worker
from voicesmith.training.models import Job

# Started as a child process, like the trainer: torch stays out of the worker.
PROBE_MODULE = "voicesmith.engines.training.probe"
PROBE_LOG = "probe.log"
TIMEOUT_SECONDS = 900.0  # a probe takes a minute; one stuck far longer is stopped
TAIL_LINES = 40
STOPPED = "the dry run was stopped: the worker stopped, or it ran past 15 minutes; ask again"


def run_estimate(ctx: runner.WorkerContext, estimate_id: str) -> None:
    """Run one queued estimate's probe and record its outcome; its folder is deleted after."""
    settings = ctx.settings
    record = estimates.read(settings, estimate_id)
    if record is None or record.get("status") != "queued":
        return
    record["status"] = "running"
    estimates.write(settings, record)
    job_dir = estimates.probe_dir(settings, estimate_id)
    try:
        with ctx.gpu_slot() as gpu:
            found, detail = _probe(ctx, record, job_dir, gpu)
        estimates.finished(settings, estimate_id, estimate=found, detail=detail)
    except Exception as exc:  # the record must not stay running, whatever broke
        runner.log.exception("estimate %s crashed in the worker", estimate_id)
        estimates.finished(settings, estimate_id, estimate=None, detail=f"the dry run broke: {exc}")
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


def _probe(
    ctx: runner.WorkerContext, record: dict, job_dir: Path, gpu: str | None
) -> tuple[dict | None, str | None]:
    """Write job.json as a job's claim would, run the probe; (its estimate, or why none)."""
    job = Job(
        id=record["estimate_id"],
        dataset_name=record["dataset_name"],
        params=record["params"],
        output_dir=str(job_dir),
    )
    runfiles.write_spec(job_dir, worker.job_spec(settings=ctx.settings, job=job))
    code = _run_child(ctx, job_dir, gpu)
    if code is None:
        return None, STOPPED
    found = runfiles.read_estimate(job_dir) if code == 0 else None
    if found is not None:
        return found, None
    log = (job_dir / PROBE_LOG).read_text(encoding="utf-8", errors="replace")
    tail = "\n".join(log.splitlines()[-TAIL_LINES:])
    return None, failures.cause(tail) or f"the dry run exited with code {code}"


def _run_child(ctx: runner.WorkerContext, job_dir: Path, gpu: str | None) -> int | None:
    """The probe's exit status; None when the worker stopped it (stopping, or too slow)."""
    # The same environment and priority a job's training process gets (runner._spawn).
    env = {**os.environ, **ctx.env, "PYTHONUNBUFFERED": "1", **runner._thread_env(ctx.settings)}  # noqa: SLF001
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    with (job_dir / PROBE_LOG).open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", PROBE_MODULE, str(job_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    runner._lower_priority(proc, ctx.settings.training_nice)  # noqa: SLF001
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while proc.poll() is None:
        if ctx.stop_event.wait(runner.POLL_SECONDS) or time.monotonic() > deadline:
            runner.stop_process_group(proc, 0)
            return None
    runner.stop_process_group(proc, 0)  # loader workers it left behind
    return proc.returncode
