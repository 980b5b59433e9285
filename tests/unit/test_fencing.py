"""Fencing by attempt: the job folder's owner refuses a taken-over attempt's writes."""

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.fencing import folder_state
from voicesmith.core.files import atomic_write_text
from voicesmith.engines import runfiles
from voicesmith.engines.training.checkpoints import find_resume_dir

ROOT = Path(__file__).resolve().parents[2]


def test_a_taken_over_attempt_is_refused_every_write(tmp_path):
    job_dir = tmp_path / "job"
    runfiles.start_attempt(job_dir, 1)
    try:
        runfiles.write_progress(job_dir, {"step": 1})
        atomic_write_text(job_dir / runfiles.ATTEMPT_FILE, "2\n")  # another claim
        before = folder_state(job_dir)
        writes = [
            lambda: runfiles.write_progress(job_dir, {"step": 2}),
            lambda: runfiles.append_metric(job_dir, {"step": 2, "losses": {}}),
            lambda: runfiles.append_log(job_dir, ["a line"]),
            lambda: runfiles.write_spec(job_dir, {"job_id": "x"}),
            lambda: runfiles.write_scores(job_dir, {"promoted": 2, "checkpoints": []}),
            lambda: runfiles.stamp_checkpoint(job_dir / "run-x" / "checkpoint_2.pth"),
        ]
        for write in writes:
            with pytest.raises(runfiles.StaleAttempt, match="taken over by attempt 2"):
                write()
        assert folder_state(job_dir) == before
    finally:
        runfiles.release(job_dir, 1)
    runfiles.write_progress(job_dir, {"step": 3})  # released: an unheld writer (the API) may


def test_resume_takes_the_newest_attempt_over_a_later_step_of_an_older_one(tmp_path):
    job_dir = tmp_path / "job"
    for attempt, step in ((1, 30), (2, 24), (0, 40)):  # 0: saved before attempts were stamped
        folder = job_dir / f"run-{attempt}"
        folder.mkdir(parents=True)
        (folder / runfiles.CONFIG_FILE).write_text("{}")
        checkpoint = runfiles.checkpoint_path(folder, step)
        with zipfile.ZipFile(checkpoint, "w") as archive:
            archive.writestr("data.pkl", b"x")
        if attempt:
            runfiles.start_attempt(job_dir, attempt)
            runfiles.stamp_checkpoint(checkpoint)
            runfiles.release(job_dir, attempt)
    assert runfiles.checkpoint_attempt(job_dir / "run-1" / "checkpoint_30.pth") == 1
    assert find_resume_dir(job_dir) == job_dir / "run-2"


def test_coquis_checkpoint_rotation_keeps_the_newest_checkpoint_and_its_stamp(tmp_path):
    from trainer.io import keep_n_checkpoints

    runfiles.start_attempt(tmp_path, 1)
    try:
        for step in (1, 2):
            checkpoint = runfiles.checkpoint_path(tmp_path, step)
            checkpoint.write_bytes(b"weights")
            runfiles.stamp_checkpoint(checkpoint)
            keep_n_checkpoints(tmp_path, 1)  # what the Trainer runs after each save
    finally:
        runfiles.release(tmp_path, 1)
    # Once a stamp named checkpoint_N.pth.attempt was kept here and the checkpoint deleted.
    assert runfiles.checkpoint_path(tmp_path, 2).read_bytes() == b"weights"
    assert runfiles.checkpoint_attempt(runfiles.checkpoint_path(tmp_path, 2)) == 1
    assert not runfiles.checkpoint_path(tmp_path, 1).exists()


def test_a_stopped_child_that_wakes_taken_over_exits_without_writing_a_byte(tmp_path):
    job_dir = tmp_path / "job"
    runfiles.start_attempt(job_dir, 1)
    runfiles.release(job_dir, 1)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.fencing", str(job_dir), "1"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
    )
    try:
        _wait(lambda: "step 5" in runfiles.log_tail(job_dir, 50))
        child.send_signal(signal.SIGSTOP)
        atomic_write_text(job_dir / runfiles.ATTEMPT_FILE, "2\n")  # the takeover
        before = folder_state(job_dir)
        child.send_signal(signal.SIGCONT)
        assert child.wait(timeout=10) == runfiles.EXIT_STALE
        assert folder_state(job_dir) == before
        assert runfiles.read_metrics(job_dir, after=0)  # it did write while it was current
    finally:
        child.kill()
        child.wait()


def test_a_child_taken_over_while_running_stops_within_seconds(tmp_path):
    job_dir = tmp_path / "job"
    runfiles.start_attempt(job_dir, 3)
    runfiles.release(job_dir, 3)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.fencing", str(job_dir), "3"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
    )
    try:
        _wait(lambda: (runfiles.read_progress(job_dir) or {}).get("step", 0) >= 3)
        atomic_write_text(job_dir / runfiles.ATTEMPT_FILE, "4\n")
        assert child.wait(timeout=5) == runfiles.EXIT_STALE
        last = runfiles.read_progress(job_dir)["step"]
        time.sleep(0.3)
        assert runfiles.read_progress(job_dir)["step"] == last
    finally:
        child.kill()
        child.wait()


def _wait(until, timeout: float = 30) -> None:
    """Poll until `until()` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
