"""Exclusive locks on lock files, across threads and processes on this host."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on path (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Each call opens its own descriptor, so flock also excludes other threads of this process.
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
