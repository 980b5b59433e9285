"""Real training through the API: a tiny VITS from scratch, fine-tuning from a served zip,
cancel, resume, a killed trainer, a killed worker, and live progress over SSE."""

import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import free_port, start_server, stop_server, upload_clips
from tests.jobs import JobEnded, at_step, done, status_is
from tests.slow.conftest import Api
from voicesmith.engines.base_models import download_model

pytestmark = pytest.mark.slow
JOBS = "/api/v1/admin/training/jobs"
# One training thread, as the session's server has it (tests/slow/conftest.py).
ONE_THREAD = {"VOICESMITH_TRAINING_THREADS": "1"}


def test_tiny_job_completes_with_the_seed_layout(tiny_job):
    job, out = tiny_job["job"], tiny_job["dir"]
    assert job["status"] == "completed", job["error"]
    assert job["has_model"] is True and job["error"] is None
    for pattern in [
        "train.log",
        "finetune_config.json",
        "config.json",
        "best_model*.pth",
        "checkpoint_*.pth",
        "events.out.tfevents*",
        "samples/*.wav",
    ]:
        assert list(out.glob(pattern)), pattern
    progress = job["progress"]
    assert progress["step"] == progress["total_steps"] > 0
    assert progress["percent"] == 100.0 and progress["epoch"] == progress["epochs"] == 2
    assert progress["losses"] and progress["seconds_per_step"] > 0


def test_the_run_records_the_dataset_snapshot_it_trained_on(tiny_job):
    used = json.loads((tiny_job["dir"] / "finetune_config.json").read_text())
    snapshot = used["dataset_snapshot"]
    frozen = tiny_job["dir"] / "dataset"
    assert snapshot["dataset"] == "lj" and len(snapshot["clips"]) >= 10
    assert used["datasets"][0]["path"] == str(frozen.resolve())
    for clip in snapshot["clips"]:
        assert (
            hashlib.sha256((frozen / "wavs" / clip["file"]).read_bytes()).hexdigest()
            == (clip["wav_sha256"])
        )


def test_sse_stream_delivered_live_progress(tiny_job):
    kinds = [kind for kind, _ in tiny_job["events"]]
    steps = [
        data["progress"]["step"]
        for kind, data in tiny_job["events"]
        if kind == "progress" and data["progress"]
    ]
    assert "status" in kinds and len(steps) >= 3
    assert steps == sorted(steps) and steps[-1] == tiny_job["job"]["progress"]["total_steps"]
    assert tiny_job["events"][-1][1]["status"] == "completed"


def test_finetune_from_a_zip_served_over_http(server, tiny_job, tmp_path):
    archive = tmp_path / "tiny_base.zip"
    best = sorted(tiny_job["dir"].glob("best_model*.pth"))[-1]
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tiny_job["dir"] / "config.json", "tiny/config.json")
        zf.write(best, "tiny/best_model.pth")
    models = server.data_dir / "models"  # the server's download cache
    cached_before = _cache_entries(models)
    with _http_server(tmp_path) as url:
        zip_url = f"{url}/tiny_base.zip"
        job_id = server.start(epochs=1, base_model=zip_url)
        job = server.wait(job_id)
    log = server.client.get(
        f"{JOBS}/{job_id}/log", params={"tail": 10_000}, headers=server.headers
    ).text
    assert "download: " in log and "(100%)" in log
    assert "Restoring Model" in log
    assert job["progress"]["step"] == job["progress"]["total_steps"]
    used = json.loads(
        (server.data_dir / "training_runs" / job_id / "finetune_config.json").read_text()
    )
    base = json.loads((tiny_job["dir"] / "config.json").read_text())
    assert used["characters"] == base["characters"] and used["audio"] == base["audio"]
    cached = [p for p in _cache_entries(models) if p not in cached_before]
    assert len(cached) == 1 and (cached[0] / "best_model.pth").is_file()
    archive.unlink()  # the zip and its server are gone: the cache must serve the next call
    assert download_model(zip_url, models) == cached[0]
    shutil.rmtree(cached[0])  # a copy of the base model; CI disks are small


def _cache_entries(models: Path) -> list[Path]:
    """The models in a download cache, without its partial downloads."""
    return [p for p in models.iterdir() if not p.name.startswith(".")] if models.is_dir() else []


def test_a_wait_on_a_failing_job_stops_at_once_with_its_error(server):
    job_id = server.start(epochs=1, base_model=f"http://127.0.0.1:{free_port()}/base.zip")
    with pytest.raises(JobEnded) as ended:
        server.wait(job_id, timeout=300)
    noticed = datetime.now(UTC)
    job = server.job(job_id)
    assert job["status"] == "failed" and "could not download" in job["error"], job
    assert job["error"] in str(ended.value)
    # The job's own clock and the test's are the same machine's.
    assert (noticed - datetime.fromisoformat(job["finished_at"])).total_seconds() < 10


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _http_server:
    """Serve a folder on 127.0.0.1 for the length of a with-block."""

    def __init__(self, folder: Path) -> None:
        handler = partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()


def _gone(pid: int) -> bool:
    """Whether a process no longer runs (zombies count as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _nice(pid: int) -> int:
    """A process's nice value, field 19 of /proc/PID/stat."""
    return int(Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[16])


def test_cancel_stops_the_process_and_resume_continues_the_steps(server, tiny_job):
    job_id = server.start(epochs=200, save_every_steps=3)
    running = server.wait(job_id, at_step(4))
    pid = _training_pid(server, job_id)
    # Training runs below the API's priority, on the thread count the server was given.
    assert _nice(pid) == 10
    assert b"OMP_NUM_THREADS=1\x00" in Path(f"/proc/{pid}/environ").read_bytes()
    assert server.post(job_id, "cancel").status_code == 200
    started = time.monotonic()
    cancelled = server.wait(job_id, status_is("cancelled"), timeout=30)
    assert time.monotonic() - started < 20
    assert _gone(pid)
    assert cancelled["can_resume"] is True  # cancelling saved a checkpoint
    stopped_at = cancelled["progress"]["step"]
    assert stopped_at >= running["progress"]["step"]
    assert server.post(job_id, "resume").json()["status"] == "pending"
    resumed = server.wait(job_id, at_step(stopped_at + 2))
    assert resumed["attempts"] == 1
    metrics = (server.data_dir / "training_runs" / job_id / "metrics.jsonl").read_text()
    steps = [json.loads(line)["step"] for line in metrics.splitlines()]
    # A resume may only rewind to the last checkpoint (saved every 3 steps and on cancel).
    rewinds = [steps[i - 1] - steps[i] for i in range(1, len(steps)) if steps[i] <= steps[i - 1]]
    assert all(rewind < 3 for rewind in rewinds), f"the step counter restarted: {steps}"
    assert max(steps) >= stopped_at + 2
    server.post(job_id, "cancel")
    assert server.wait(job_id, status_is("cancelled"), timeout=30)["status"] == "cancelled"


def _training_pid(server: Api, job_id: str) -> int:
    """The training process's pid, read from the worker's record of it."""
    import sqlite3

    with sqlite3.connect(server.data_dir / "voicesmith.db") as db:
        return db.execute("SELECT pid FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]


def test_killed_trainer_fails_the_job_with_its_log_tail(server, tiny_job):
    job_id = server.start(epochs=200)
    server.wait(job_id, at_step(1))
    os.kill(_training_pid(server, job_id), signal.SIGKILL)
    job = server.wait(job_id, status_is("failed"), timeout=30)
    assert "killed by SIGKILL" in job["error"] and len(job["error"].splitlines()) > 3


def _start_worker(data_dir: Path):
    """A standalone `voicesmith worker` process."""
    return subprocess.Popen(
        [sys.executable, "-m", "voicesmith", "worker", "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, **ONE_THREAD},
    )


def _wait_gone(pid: int, timeout: float = 15) -> bool:
    """Wait until a process is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def cli_job(server, tiny_job) -> Iterator[tuple[subprocess.CompletedProcess, Path | None]]:
    """`voicesmith train --follow` of one epoch on the tiny job as its base; the run and its dir."""
    follow = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicesmith",
            "train",
            "lj",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--base-model",
            f"job:{tiny_job['job']['job_id']}",
            "--follow",
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
    )
    queued = re.search(r"^queued (\S+);", follow.stdout, re.M)
    job_id = queued[1] if queued else None
    yield follow, (server.data_dir / "training_runs" / job_id) if job_id else None
    if job_id:  # queued outside the Api helper, so the fixture deletes its run itself
        if not done(server.job(job_id)):
            server.post(job_id, "cancel")
            server.wait(job_id, done, timeout=60)
        server.client.delete(f"{JOBS}/{job_id}", headers=server.headers)


def test_a_completed_job_is_a_base_for_more_training(cli_job):
    follow, job_dir = cli_job
    assert follow.returncode == 0, follow.stdout + follow.stderr
    used = json.loads((job_dir / "finetune_config.json").read_text())
    assert used["model_args"]["hidden_channels"] == 32  # the tiny base's architecture


def test_cli_train_follow_shows_the_job_to_the_end(cli_job):
    follow, _ = cli_job
    assert follow.returncode == 0, follow.stdout + follow.stderr
    assert "queued lj_" in follow.stdout and ": completed" in follow.stdout
    assert "100.0%" in follow.stdout


def test_a_stopped_server_and_a_killed_worker_fail_the_job_for_resume(
    tmp_path, speech_clips, tiny_job
):
    """One job, orphaned twice: by a server stopped cleanly, then by a worker killed outright."""
    data_dir = tmp_path / "var"
    proc, base = start_server(data_dir, {**os.environ, **ONE_THREAD})
    api = Api(base, data_dir)
    upload_clips(api.client, api.headers, speech_clips[:10], "lj")
    job_id = api.start(epochs=200)
    api.wait(job_id, at_step(2))
    trainer = _training_pid(api, job_id)
    stop_server(proc)
    assert _gone(trainer)
    # Back as an API without a worker, and a standalone worker: the job waits for a resume.
    proc, base = start_server(data_dir, {**os.environ, **ONE_THREAD}, "--no-worker")
    worker = _start_worker(data_dir)
    try:
        api = Api(base, data_dir)
        job = api.job(job_id)
        assert job["status"] == "failed" and job["error"].startswith("worker stopped")
        assert api.post(job_id, "resume").status_code == 200
        api.wait(job_id, at_step(job["progress"]["step"] + 1))
        # kill -9 the worker: the worker started next fails the orphaned job and its trainer.
        trainer = _training_pid(api, job_id)
        worker.kill()
        worker.wait()
        worker = _start_worker(data_dir)
        job = api.wait(job_id, status_is("failed"), timeout=60)
        assert job["error"].startswith("worker stopped")
        assert _wait_gone(trainer)
    finally:
        worker.kill()
        stop_server(proc)
