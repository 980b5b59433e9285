"""The training child's progress: progress.json (at most every 0.5 s) and a metrics line a step."""

import math
import statistics
import time
from collections import deque
from pathlib import Path
from typing import Any

from voicesmith.engines import runfiles
from voicesmith.engines.training.memory import MemoryWatch

MIN_WRITE_INTERVAL = 0.5
SPEED_WINDOW = 20


class Progress:
    """Where training is, how fast it goes, and its losses, written into the run folder."""

    def __init__(self, job_dir: Path, *, epochs: int, device: str) -> None:
        self.job_dir = job_dir
        self.memory = MemoryWatch(cuda=device == "cuda")
        self.training_started: float | None = None
        self.steps_per_epoch = 1
        self.written_at = 0.0
        self.durations: deque[float] = deque(maxlen=SPEED_WINDOW)
        self.first_pending = True  # imports and plotting set-up make step one slow
        self.state: dict[str, Any] = {
            "phase": "preparing", "step": 0, "total_steps": 0, "epoch": 1, "epochs": epochs,
            "losses": {}, "seconds_per_step": 0.0, "device": device,
            "peak_memory_mb": None, "training_seconds": 0.0,
        }  # fmt: skip

    def phase(self, name: str) -> None:
        """Enter downloading, preparing, training, exporting or finishing."""
        self._clock()  # leaving training: its time so far is final
        self.state["phase"] = name
        if name == "training":
            self.training_started = time.monotonic()
        self.write()

    def start(self, *, step: int, total_steps: int, steps_per_epoch: int) -> None:
        """Record where training starts and where it ends."""
        self.steps_per_epoch = steps_per_epoch
        self.state.update(step=step, total_steps=total_steps, epoch=self.epoch_of(step))
        runfiles.drop_metrics_after(self.job_dir, step)
        self.write()

    def epoch_of(self, step: int) -> int:
        """The 1-based epoch a global step falls in (the Trainer's own count restarts on resume)."""
        return min(self.state["epochs"], max(1, math.ceil(step / self.steps_per_epoch)))

    def step(self, step: int, losses: dict[str, float], seconds: float) -> None:
        """Record one finished step; always write progress.json on the last one."""
        self._time(seconds)
        self.state.update(step=step, epoch=self.epoch_of(step), losses=dict(losses))
        line = {k: self.state[k] for k in ("step", "epoch", "losses", "seconds_per_step")}
        runfiles.append_metric(self.job_dir, {**line, "time": time.time()})
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
        """Replace progress.json, with the peak memory and the time spent training so far."""
        if self.state["phase"] in ("preparing", "training"):  # the export's is not training's
            self.state["peak_memory_mb"] = round(self.memory.peak_mb())
        self._clock()
        runfiles.write_progress(self.job_dir, self.state)
        self.written_at = time.monotonic()

    def _clock(self) -> None:
        """Update training_seconds: the time in the training phase, evaluations included."""
        if self.training_started is not None and self.state["phase"] == "training":
            self.state["training_seconds"] = round(time.monotonic() - self.training_started, 2)
