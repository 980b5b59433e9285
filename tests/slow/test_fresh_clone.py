"""A new user's first minutes: clone, `make run`, then the README's curl session trains a voice.

The clone holds what is committed, with no `.venv`: `make run` must build one from uv.lock.
uv links the packages from its cache, so the second environment costs little disk.
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, without_bytecode_cache
from tests.factories import read_pcm, readme_block, tensorboard_counts

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 900


def _environment(port: int) -> dict[str, str]:
    """A user's shell: no test data dir or admin password, so the README's defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICESMITH_", "VIRTUAL_ENV"))}
    env = without_bytecode_cache(env)  # a clone's venv compiles as the user's would
    # The eight sample clips are below the default 10-clip minimum, as the README says.
    return {
        **env,
        "VOICESMITH_PORT": str(port),
        "VOICESMITH_MIN_TRAINING_CLIPS": "8",
        "VOICESMITH_MIN_FREE_DISK_MB": "200",
        "VOICESMITH_KEEP_CHECKPOINTS": "1",
    }


def _wait_healthy(proc: subprocess.Popen, base: str, log: Path) -> float:
    """Seconds until /api/v1/health answers; fails at once if `make run` exits."""
    started = time.monotonic()
    while time.monotonic() - started < INSTALL_TIMEOUT:
        if proc.poll() is not None:
            pytest.fail(f"make run exited {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(1)
    pytest.fail(f"not healthy after {INSTALL_TIMEOUT} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A clone of this repository served by its own `make run`; yields its folder and URL."""
    clone = tmp_path / "voicesmith"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    assert not (clone / ".venv").exists()
    port, log = free_port(), tmp_path / "make-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=_environment(port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        print(f"make run: healthy after {_wait_healthy(proc, base, log):.0f} s")
        yield clone, base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def test_make_run_serves_from_the_lock_and_the_readme_session_trains(fresh_clone):
    clone, base = fresh_clone
    script = readme_block("curl-session", "bash")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=clone,
        env={**_environment(0), "VS": base},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert '"status":"stored","dataset":"lj","stored":8' in done.stdout, done.stdout
    assert done.stdout.rstrip().endswith("completed"), done.stdout[-4000:]
    samples, rate = read_pcm(clone / "hello.wav")
    # By default a job draws TensorBoard's figures too, which the rest of the suite turns off.
    (events,) = (clone / "var" / "training_runs").glob("*/events.out.tfevents.*")
    assert tensorboard_counts(events.parent)["images"] > 0
    assert rate == 22050 and len(samples) > 0.3 * rate
    # The clone's environment is the lock's: torch is the pinned release, not a newer one.
    torch = subprocess.run(
        [".venv/bin/python", "-c", "import torch; print(torch.__version__)"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert torch.stdout.startswith("2.11.0"), torch
