"""A worker told to stop at any moment, even before its consumer runs, exits cleanly."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD


def _workers(db: Path) -> int | None:
    """How many worker rows the database holds, or None before it has the table."""
    try:
        with sqlite3.connect(db) as connection:
            return connection.execute("SELECT count(*) FROM workers").fetchone()[0]
    except sqlite3.Error:
        return None


def test_sigterm_right_after_registering_retires_the_worker(tmp_path: Path):
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    command = [sys.executable, "-m", "voicesmith", "worker", "--data-dir", str(tmp_path)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    # Poll fast: the signal must land while the worker is still starting its consumers.
    while not _workers(tmp_path / "voicesmith.db") and time.monotonic() < deadline:
        assert proc.poll() is None, f"the worker exited early with {proc.returncode}"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, "killed by the signal instead of stopping"
    assert _workers(tmp_path / "voicesmith.db") == 0
