"""The training child's files in JOB_DIR: job.json, progress.json, metrics.jsonl, the seed layout.

Pure file handling, no torch: the Trainer's run folder is moved up into JOB_DIR at the end, and
resume looks for the newest intact checkpoint anywhere below JOB_DIR.
"""

import json
import math
import os
import re
import shutil
import statistics
import time
import zipfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicesmith.core.files import atomic_write_text, link_or_copy
from voicesmith.engines.base_models import EngineError

CHECKPOINT_RE = re.compile(r"^(checkpoint|best_model)_(\d+)\.pth$")
MIN_WRITE_INTERVAL = 0.5
SPEED_WINDOW = 20
REQUIRED_FIELDS = ("job_id", "dataset_dir", "base_model", "epochs", "batch_size")


class JobError(EngineError):
    """job.json or the job folder is unusable; the message is for people."""


@dataclass(frozen=True)
class Job:
    """The fields of job.json."""

    job_id: str
    dataset_dir: Path
    base_model: str
    models_dir: Path
    epochs: int
    batch_size: int
    learning_rate: float | None = None
    eval_split: float | None = None
    save_every_steps: int | None = None
    test_sentences: list[str] | None = None
    resume: bool = False
    keep_checkpoints: int = 2
    seed: int | None = None
    # Where the speech recognition model is, to measure how intelligible the samples are.
    asr_model: str | None = None
    asr_threads: int = 2
    asr_compute_type: str = "int8"


def load_job(job_dir: Path) -> Job:
    """Read and check job.json."""
    try:
        raw = json.loads((job_dir / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JobError(f"cannot read {job_dir / 'job.json'}: {exc}") from exc
    missing = [name for name in REQUIRED_FIELDS if raw.get(name) is None]
    if missing:
        raise JobError(f"job.json lacks {', '.join(missing)}")
    fields = {k: v for k, v in raw.items() if k in Job.__dataclass_fields__ and v is not None}
    fields["dataset_dir"] = Path(raw["dataset_dir"])
    fields["models_dir"] = Path(raw.get("models_dir") or job_dir / "models")
    job = Job(**fields)
    if min(job.epochs, job.batch_size, job.keep_checkpoints) < 1:
        raise JobError("epochs, batch_size and keep_checkpoints must be at least 1")
    if not (job.dataset_dir / "metadata.csv").is_file():
        raise JobError(f"{job.dataset_dir} holds no metadata.csv")
    return job


class Progress:
    """progress.json (replaced atomically, at most every 0.5 s) and metrics.jsonl, a line a step."""

    def __init__(self, job_dir: Path, *, epochs: int, device: str) -> None:
        self.path = job_dir / "progress.json"
        self.metrics = job_dir / "metrics.jsonl"
        self.steps_per_epoch = 1
        self.written_at = 0.0
        self.durations: deque[float] = deque(maxlen=SPEED_WINDOW)
        self.first_pending = True  # imports and plotting set-up make step one slow
        self.state: dict[str, Any] = {
            "phase": "preparing", "step": 0, "total_steps": 0, "epoch": 1, "epochs": epochs,
            "losses": {}, "seconds_per_step": 0.0, "device": device,
        }  # fmt: skip

    def phase(self, name: str) -> None:
        """Enter downloading, preparing, training, exporting or finishing."""
        self.state["phase"] = name
        self.write()

    def start(self, *, step: int, total_steps: int, steps_per_epoch: int) -> None:
        """Record where training starts and where it ends."""
        self.steps_per_epoch = steps_per_epoch
        self.state.update(step=step, total_steps=total_steps, epoch=self.epoch_of(step))
        self._drop_metrics_after(step)
        self.write()

    def _drop_metrics_after(self, step: int) -> None:
        """Forget metrics of steps that will be trained again (after a crash, or a fresh start)."""
        if not self.metrics.exists():
            return
        lines = self.metrics.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if _line_step(line) <= step]
        if len(kept) != len(lines):
            atomic_write_text(self.metrics, "".join(kept))

    def epoch_of(self, step: int) -> int:
        """The 1-based epoch a global step falls in (the Trainer's own count restarts on resume)."""
        return min(self.state["epochs"], max(1, math.ceil(step / self.steps_per_epoch)))

    def step(self, step: int, losses: dict[str, float], seconds: float) -> None:
        """Record one finished step; always write progress.json on the last one."""
        self._time(seconds)
        self.state.update(step=step, epoch=self.epoch_of(step), losses=dict(losses))
        line = {k: self.state[k] for k in ("step", "epoch", "losses", "seconds_per_step")}
        with self.metrics.open("a", encoding="utf-8") as out:
            out.write(json.dumps({**line, "time": time.time()}) + "\n")
        last = step >= self.state["total_steps"]
        if last or time.monotonic() - self.written_at >= MIN_WRITE_INTERVAL:
            self.write()

    def _time(self, seconds: float) -> None:
        """Average the last steps' durations, dropping the process's slow first one when it can."""
        if self.first_pending and len(self.durations) == 1:
            self.durations.clear()
            self.first_pending = False
        self.durations.append(seconds)
        self.state["seconds_per_step"] = round(statistics.fmean(self.durations), 4)

    def write(self) -> None:
        """Replace progress.json."""
        atomic_write_text(self.path, json.dumps(self.state))
        self.written_at = time.monotonic()


def _line_step(line: str) -> float:
    """The step of a metrics.jsonl line; infinity for a line cut off by a kill."""
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return math.inf


def find_resume_dir(job_dir: Path) -> Path:
    """The folder under job_dir holding the newest intact checkpoint and its config.json."""
    found = []
    for path in job_dir.rglob("*.pth"):
        match = CHECKPOINT_RE.match(path.name)
        if match is None or not (path.parent / "config.json").is_file():
            continue
        if not zipfile.is_zipfile(path):
            _quarantine(path)
            continue
        found.append((int(match.group(2)), match.group(1) == "checkpoint", str(path.parent)))
    if not found:
        raise JobError("no checkpoint to resume from")
    return Path(max(found)[2])


def _quarantine(path: Path) -> None:
    """Rename a truncated checkpoint (killed mid-save) so neither we nor the Trainer load it."""
    # The new name must not start with checkpoint_: the Trainer's pruning globs that prefix.
    target = path.with_name(f"damaged-{path.name}")
    print(f"WARNING: {path} is damaged (cut off while saving?); renamed to {target.name}")
    os.replace(path, target)


def publish(run_dir: Path, job_dir: Path, keep: int) -> None:
    """Move the Trainer's run folder up into job_dir and keep only the last checkpoints."""
    for path in run_dir.glob("*.pth"):
        if not zipfile.is_zipfile(path):
            _quarantine(path)
    if run_dir != job_dir:
        # config.json is copied, not moved, so every checkpoint always sits next to one.
        config = (run_dir / "config.json").read_text(encoding="utf-8")
        atomic_write_text(job_dir / "config.json", config)
        for path in sorted(run_dir.iterdir()):
            if path.suffix == ".pth" or path.name.startswith(("events.out", "trainer_")):
                os.replace(path, job_dir / path.name)
        shutil.rmtree(run_dir)
    _prune(job_dir, "checkpoint", keep)
    _prune(job_dir, "best_model", 1)


def _prune(folder: Path, prefix: str, keep: int) -> None:
    """Delete all but the newest `keep` <prefix>_<step>.pth files."""
    numbered = sorted(
        (p for p in folder.glob(f"{prefix}_*.pth") if CHECKPOINT_RE.match(p.name)), key=_step_of
    )
    for path in numbered[:-keep]:
        path.unlink()


def _step_of(path: Path) -> int:
    """The step in checkpoint_<n>.pth or best_model_<n>.pth; -1 for other names."""
    match = CHECKPOINT_RE.match(path.name)
    return int(match.group(2)) if match else -1


def ensure_seed_layout(job_dir: Path) -> None:
    """Check config.json is there and point best_model.pth at the newest best (or checkpoint)."""
    if not (job_dir / "config.json").is_file():
        raise JobError(f"training ended without {job_dir / 'config.json'}")
    best = max(job_dir.glob("best_model_*.pth"), key=_step_of, default=None)
    if best is None and (job_dir / "best_model.pth").is_file():
        return
    source = best or max(job_dir.glob("checkpoint_*.pth"), key=_step_of, default=None)
    if source is None:
        raise JobError("training ended without a checkpoint")
    link_or_copy(source, job_dir / "best_model.pth")
