"""Checkpoints in the run folder: finding one to resume from, publishing and pruning them.

The Trainer's run folder is moved up into JOB_DIR at the end, and resume looks for the newest
intact checkpoint anywhere below JOB_DIR.
"""

import os
import shutil
import zipfile
from pathlib import Path

from voicesmith.core.files import link_or_copy
from voicesmith.engines import runfiles, scores
from voicesmith.engines.runfiles import CHECKPOINT_RE, CONFIG_FILE, RunFilesError, checkpoint_step


def find_resume_dir(job_dir: Path) -> Path:
    """The folder holding the newest checkpoint of the newest attempt that saved one."""
    found = []
    for path in job_dir.rglob("*.pth"):
        match = CHECKPOINT_RE.match(path.name)
        if match is None or not (path.parent / CONFIG_FILE).is_file():
            continue
        if not zipfile.is_zipfile(path):
            _quarantine(path)
            continue
        step, is_checkpoint = int(match.group(2)), match.group(1) == "checkpoint"
        found.append((runfiles.checkpoint_attempt(path), step, is_checkpoint, str(path.parent)))
    if not found:
        raise RunFilesError("no checkpoint to resume from")
    # The newest attempt's newest: a stale attempt's later step never wins over the new one.
    return Path(max(found)[3])


def _quarantine(path: Path) -> None:
    """Rename a truncated checkpoint (killed mid-save) so neither we nor the Trainer load it."""
    # The new name must not start with checkpoint_: the Trainer's pruning globs that prefix.
    target = path.with_name(f"damaged-{path.name}")
    print(f"WARNING: {path} is damaged (cut off while saving?); renamed to {target.name}")
    os.replace(path, target)


def publish(run_dir: Path, job_dir: Path, keep: int) -> None:
    """Move the Trainer's run folder up into job_dir and prune its checkpoints."""
    runfiles.check(job_dir)
    for path in run_dir.glob("*.pth"):
        if not zipfile.is_zipfile(path):
            _quarantine(path)
    if run_dir != job_dir:
        # config.json is copied, not moved, so every checkpoint always sits next to one.
        runfiles.write_config(job_dir, (run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        for path in sorted(run_dir.iterdir()):
            moved = path.suffix == ".pth" or runfiles.is_stamp(path)
            if moved or path.name.startswith(("events.out", "trainer_")):
                runfiles.check(job_dir)
                os.replace(path, job_dir / path.name)
        shutil.rmtree(run_dir)
    record = runfiles.read_scores(job_dir)
    if record["checkpoints"]:
        _prune_by_scores(job_dir, record, keep)
    else:
        _prune(job_dir, "checkpoint", keep)
    _prune(job_dir, "best_model", 1)


def _prune_by_scores(job_dir: Path, record: dict, keep: int) -> None:
    """Keep the best `keep` checkpoints by the promotion rule, plus the newest (for resume)."""
    numbered = [p for p in job_dir.glob("checkpoint_*.pth") if CHECKPOINT_RE.match(p.name)]
    newest = max((checkpoint_step(p) for p in numbered), default=None)
    kept = scores.to_keep(record["checkpoints"], keep, newest, record.get("override"))
    for path in numbered:
        if checkpoint_step(path) not in kept:
            _delete(job_dir, path)


def _prune(folder: Path, prefix: str, keep: int) -> None:
    """Delete all but the newest `keep` <prefix>_<step>.pth files."""
    numbered = sorted(
        (p for p in folder.glob(f"{prefix}_*.pth") if CHECKPOINT_RE.match(p.name)),
        key=checkpoint_step,
    )
    for path in numbered[:-keep]:
        _delete(folder, path)


def _delete(folder: Path, checkpoint: Path) -> None:
    """Delete a checkpoint and its attempt stamp, if this attempt still owns the folder."""
    runfiles.check(folder)
    for path in runfiles.checkpoint_files(checkpoint):
        path.unlink()


def ensure_seed_layout(job_dir: Path) -> None:
    """Check config.json is there and point best_model.pth at the promoted checkpoint.

    Without scores: the newest best (by Coqui's eval loss), else the newest checkpoint.
    """
    if not (job_dir / CONFIG_FILE).is_file():
        raise RunFilesError(f"training ended without {job_dir / CONFIG_FILE}")
    default = job_dir / runfiles.DEFAULT_CHECKPOINT
    promoted = runfiles.read_scores(job_dir)["promoted"]
    chosen = None if promoted is None else runfiles.checkpoint_path(job_dir, promoted)
    if chosen is not None and chosen.is_file():
        link_or_copy(chosen, default)
        return
    best = max(job_dir.glob("best_model_*.pth"), key=checkpoint_step, default=None)
    if best is None and default.is_file():
        return
    source = best or max(job_dir.glob("checkpoint_*.pth"), key=checkpoint_step, default=None)
    if source is None:
        raise RunFilesError("training ended without a checkpoint")
    link_or_copy(source, default)
