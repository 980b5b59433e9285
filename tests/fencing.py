"""Fencing checks shared by the tests: a folder's exact state, and a stand-in training child.

Run as `python -m tests.fencing JOB_DIR ATTEMPT`, it holds JOB_DIR for ATTEMPT through the
real training child's Fence and writes as training does (progress, metrics, log lines) in a
loop, so a test can take the job over and watch it stop without a model to train.
"""

import hashlib
import sys
import time
from pathlib import Path

from voicesmith.engines import runfiles
from voicesmith.engines.training.fence import Fence


def folder_state(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file below folder: its sha256, size and mtime in nanoseconds."""
    state = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            info = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(folder))] = (digest, info.st_size, info.st_mtime_ns)
    return state


def main(job_dir: Path, attempt: int) -> int:
    """Write like a training child, forever, until the fence stops it."""
    fence = Fence(job_dir, attempt)
    fence.start()
    step = 0
    while True:
        step += 1
        print(f"step {step}", flush=True)
        runfiles.append_metric(job_dir, {"step": step, "losses": {"loss": 1.0 / step}})
        runfiles.write_progress(job_dir, {"phase": "training", "step": step})
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
