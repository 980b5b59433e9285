"""The training child's side of fencing: it stops within a second of being taken over.

runfiles refuses our own writes once a newer attempt owns the folder. This module covers the
rest: the child's output (stdout and stderr reach train.log through a checked pipe), the
Trainer's own log file and TensorBoard events, a watchdog that checks every second, and a
check the moment the process is continued after being stopped (SIGCONT).
"""

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from voicesmith.engines import runfiles

CHECK_SECONDS = 1.0
READ_BYTES = 65536
DRAIN_SECONDS = 5.0


class Fence:
    """Holds the job folder for one attempt and routes the child's output through checks."""

    def __init__(self, job_dir: Path, attempt: int) -> None:
        self.job_dir, self.attempt = job_dir, attempt
        self.saved_fds: tuple[int, int] | None = None
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        """Hold the folder, check now, then keep checking on every path a write can take."""
        runfiles.hold(self.job_dir, self.attempt, exit_when_stale=True)
        runfiles.check(self.job_dir)
        signal.signal(signal.SIGCONT, lambda *_: runfiles.check(self.job_dir))
        threading.Thread(target=self._watch, name="attempt-fence", daemon=True).start()
        _check_library_writes(self.job_dir)
        self._route_output()

    def _watch(self) -> None:
        """Check the attempt every second: a child paused by a VM freeze has no SIGCONT."""
        while True:
            runfiles.check(self.job_dir)
            time.sleep(CHECK_SECONDS)

    def _route_output(self) -> None:
        """Send fds 1 and 2 (ours, torch's, subprocesses') to train.log through a checked pipe."""
        sys.stdout.flush()
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        self.saved_fds = (os.dup(1), os.dup(2))
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        self.reader = threading.Thread(
            target=self._copy, args=(read_end,), name="attempt-log", daemon=True
        )
        self.reader.start()

    def _copy(self, read_end: int) -> None:
        """Append what the pipe brings to train.log while this attempt owns the folder."""
        with runfiles.open_log(self.job_dir) as log:
            while data := os.read(read_end, READ_BYTES):
                runfiles.append_log_bytes(log, self.job_dir, data)
        os.close(read_end)

    def close(self) -> None:
        """Put the original fds back, so the pipe ends and its last lines reach train.log."""
        if self.saved_fds is None or self.reader is None:
            return
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.saved_fds[0], 1)
        os.dup2(self.saved_fds[1], 2)
        # A loader process that inherited the pipe may outlive us: wait for it only a while.
        self.reader.join(DRAIN_SECONDS)


def _check_library_writes(job_dir: Path) -> None:
    """Check before the Trainer's log file and TensorBoard's event files take a write."""
    file_emit = logging.FileHandler.emit

    def emit(handler: logging.FileHandler, record: logging.LogRecord) -> None:
        runfiles.check(job_dir)
        file_emit(handler, record)

    logging.FileHandler.emit = emit  # type: ignore[method-assign]
    try:
        from tensorboard.summary.writer import record_writer
    except ImportError:  # TensorBoard is a dependency of the Trainer; nothing to guard without
        return
    for name in ("write", "flush"):
        _guard_method(record_writer.RecordWriter, name, job_dir)


def _guard_method(cls: type, name: str, job_dir: Path) -> None:
    """Make cls.name check the attempt before it runs."""
    original = getattr(cls, name)

    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        runfiles.check(job_dir)
        return original(self, *args, **kwargs)

    setattr(cls, name, guarded)
