"""Checkpoints written whole or not at all, and a full disk said with the space it needs."""

import errno
import os
import shutil
from pathlib import Path
from typing import Any

from voicesmith.core.files import fsync_dir, write_temp
from voicesmith.engines import runfiles
from voicesmith.engines.base_models import EngineError

MIB = 1 << 20
# ENOSPC: the disk is full; EFBIG: a file size limit (RLIMIT_FSIZE); EDQUOT: a quota.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class DiskFull(EngineError):
    """A file of the run could not be written for lack of space; the message says how much."""


def install_atomic_saves() -> None:
    """Make the Trainer write each checkpoint to a temporary file, renamed once complete."""
    # Coqui's Trainer torch.saves straight to checkpoint_<step>.pth: a full disk would
    # leave half a checkpoint that a resume picks as the newest. Every save, ours and the
    # Trainer's (checkpoints, best models), goes through trainer.io.save_fsspec.
    import trainer.io

    trainer.io.save_fsspec = save_atomically


def save_atomically(state: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """torch.save state to path through a fsynced temporary file in the same folder."""
    import torch

    target = Path(path)

    def write(handle: Any) -> None:
        torch.save(state, handle, **kwargs)

    runfiles.check(target)  # a taken-over attempt writes not even the temporary file
    try:
        temporary = write_temp(target.parent, write, prefix=f".{target.name}.")
    except (OSError, RuntimeError) as exc:
        raise disk_full(target, exc) or exc from exc
    runfiles.stamp_checkpoint(target)
    os.replace(temporary, target)
    fsync_dir(target.parent)


def disk_full(target: Path, exc: BaseException) -> DiskFull | None:
    """The DiskFull for an error caused by a full disk or a size limit; None for others."""
    error = _storage_errno(exc)
    return None if error is None else DiskFull(disk_full_message(target, error))


def _storage_errno(exc: BaseException) -> int | None:
    """The errno of a full disk or a size limit, found along the cause chain; else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in STORAGE_ERRNOS:
            return seen.errno
        # torch.save's zip writer reports a failed write as a RuntimeError with the text only.
        if "file write failed" in str(seen) or "No space left" in str(seen):
            return errno.ENOSPC
        seen = seen.__cause__ or seen.__context__
    return None


def disk_full_message(target: Path, error: int) -> str:
    """What could not be written, how much it needs (a checkpoint's size) and what is free."""
    sizes = [p.stat().st_size for p in target.parent.glob("*.pth") if p.is_file()]
    needed = f"about {max(sizes) / MIB:,.0f} MB" if sizes else "as much as a checkpoint"
    free = shutil.disk_usage(target.parent).free / MIB
    cause = "a file size limit was reached" if error == errno.EFBIG else "the disk is full"
    return (
        f"No space left for {target.name}: {cause}. Saving it needs {needed}; "
        f"{free:,.0f} MB are free in {target.parent}. Free space, then resume the job"
    )
