"""First run on a new machine: seconds from `git clone` to a healthy /api/v1/health.

Each round clones this repository twice into a temporary folder and serves each clone with
a fresh data dir: (a) the README's way, `make run`, which installs uv.lock with uv; (b) the
same with an empty uv cache of its own, so every wheel is downloaded; (c) the baseline,
`pip install -e '.[train,dev]'` into a fresh venv, `npm ci`, `voicesmith serve`. No clone
has a `.venv`. The wheel caches (pip's and uv's) are shared across rounds, so rounds after
the first may run warm; the output says how full each cache was before each run. The rounds
alternate a, b and c, and the ratios are of the medians.
Run: .venv/bin/python benchmarks/install.py [--rounds 3]
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402

HEALTH_TIMEOUT = 1800
CACHES = {"pip": Path.home() / ".cache" / "pip", "uv": Path.home() / ".cache" / "uv"}


def main() -> None:
    """Alternate the three installs and print their medians side by side."""
    args = _parse()
    runs = (("pip baseline", _pip_serve), ("uv, cold cache", _make_run_cold))
    runs += (("make run (uv)", _make_run),)
    times: dict[str, list[float]] = {name: [] for name, _ in runs}
    for round_ in range(1, args.rounds + 1):
        for name, serve in runs:
            caches = _cache_sizes()
            seconds = _timed_first_run(serve)
            times[name].append(seconds)
            print(
                f"round {round_} {name:14} {seconds:7.1f} s   caches before: {caches}", flush=True
            )
    _print(times)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def _cache_sizes() -> str:
    """How much each wheel cache holds now, so warm and cold runs are told apart."""
    sizes = []
    for name, path in CACHES.items():
        done = subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True)
        sizes.append(f"{name} {done.stdout.split()[0] if done.returncode == 0 else 'empty'}")
    return ", ".join(sizes)


def _timed_first_run(serve: Callable[[Path, dict], subprocess.Popen]) -> float:
    """Clone, start `serve`, and time it until healthy; everything is removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix="vs-install-"))
    port = free_port()
    env = _environment(work, port)
    started = time.monotonic()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(work / "clone")], check=True)
    proc = serve(work / "clone", env)
    try:
        _wait_healthy(proc, f"http://127.0.0.1:{port}", work / "output.log")
        return time.monotonic() - started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def _environment(work: Path, port: int) -> dict[str, str]:
    """A clean shell with a data dir and port of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICESMITH_", "VIRTUAL_ENV"))}
    env.update(
        VOICESMITH_DATA_DIR=str(work / "var"),
        VOICESMITH_PORT=str(port),
        VOICESMITH_ADMIN_PASSWORD="benchmark-install-password",
    )
    return env


def _make_run(clone: Path, env: dict) -> subprocess.Popen:
    """The README's first command."""
    return _spawn(["make", "run"], clone, env)


def _make_run_cold(clone: Path, env: dict) -> subprocess.Popen:
    """`make run` with a uv cache of its own, empty, removed with the clone's folder."""
    return _spawn(["make", "run"], clone, {**env, "UV_CACHE_DIR": str(clone.parent / "uv")})


def _pip_serve(clone: Path, env: dict) -> subprocess.Popen:
    """The baseline: a fresh venv, pip, npm ci, then the server."""
    script = (
        "set -e; python3 -m venv .venv; "
        ".venv/bin/pip install --quiet --disable-pip-version-check -e '.[train,dev]'; "
        "npm ci --no-audit --no-fund --loglevel=error; exec .venv/bin/voicesmith serve"
    )
    return _spawn(["bash", "-c", script], clone, env)


def _spawn(command: list[str], clone: Path, env: dict) -> subprocess.Popen:
    """Start a command in its own process group, its output in a file beside the clone."""
    with (clone.parent / "output.log").open("w") as out:
        return subprocess.Popen(
            command,
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_healthy(proc: subprocess.Popen, base: str, log: Path) -> None:
    """Poll the health route; stop with the output if the command exits first."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    raise SystemExit(f"not healthy after {HEALTH_TIMEOUT} s:\n{log.read_text()[-3000:]}")


def _print(times: dict[str, list[float]]) -> None:
    """Medians side by side, and the ratio against the pip baseline."""
    baseline = statistics.median(times["pip baseline"])
    rounds = len(times["pip baseline"])
    print(f"\nseconds from git clone to a healthy /api/v1/health, medians of {rounds} rounds")
    for name, seen in times.items():
        median = statistics.median(seen)
        runs = ", ".join(f"{s:.0f}" for s in seen)
        print(f"{name:14} {median:7.1f} s  {median / baseline:5.2f}x the baseline  (runs: {runs})")


if __name__ == "__main__":
    main()
