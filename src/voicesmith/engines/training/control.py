"""Stopping the training child cleanly, and the Trainer callbacks that watch every step."""

import math
import os
import signal
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from voicesmith.engines.runfiles import RunFilesError, RunSpec
from voicesmith.engines.training.progress import Progress

if TYPE_CHECKING:  # torch loads only once the job is known to be valid
    from trainer import Trainer

    from voicesmith.engines.training.scoring import Scorer
    from voicesmith.engines.training.vits import SampleWritingVits

# A step still running this long after SIGTERM is interrupted; the supervisor kills at ~10 s.
STEP_GRACE_SECONDS = 4.0


class StopRequest:
    """SIGTERM handling: at once between steps, after the step inside one, never while saving."""

    def __init__(self) -> None:
        self.requested = False
        self.mode = "now"  # "now" | "step" | "never"

    def install(self) -> None:
        """Handle SIGTERM and SIGINT, and the alarm that ends a step's grace."""
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGALRM, self._grace_over)

    def step_started(self) -> None:
        """A step runs: a stop waits for its end."""
        self.mode = "step"

    def step_ended(self) -> None:
        """Between steps: the caller stops if a stop was requested."""
        self.mode = "now"
        signal.setitimer(signal.ITIMER_REAL, 0)

    def shield(self) -> None:
        """From now on signals are only recorded: the last checkpoint and files are written."""
        self.mode = "never"

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        """Record the first stop signal and interrupt now or after the step, as the mode says."""
        if self.requested:
            return
        self.requested = True
        # os.write, not print: a handler that prints while print runs raises RuntimeError.
        os.write(1, f"received signal {signum}: stopping at the next step boundary\n".encode())
        if self.mode == "step":
            signal.setitimer(signal.ITIMER_REAL, STEP_GRACE_SECONDS)
        elif self.mode == "now":
            self.mode = "never"  # the checkpoint saved next must not be interrupted
            raise KeyboardInterrupt

    def _grace_over(self, _signum: int, _frame: FrameType | None) -> None:
        """The step outlived its grace: interrupt it."""
        if self.mode == "step":
            # Between the two optimizers' updates is still a usable state; the step
            # counter has not moved, so a resume simply does this step again.
            self.mode = "never"
            raise KeyboardInterrupt


class StepWatcher:
    """Trainer callbacks: progress, periodic checkpoints, stopping at the target or on SIGTERM."""

    def __init__(self, progress: Progress, stop: StopRequest, spec: RunSpec) -> None:
        self.progress = progress
        self.stop = stop
        self.save_every = spec.save_every_steps
        self.max_steps = spec.max_steps
        self.target = 0
        self.model: SampleWritingVits | None = None
        self.scorer: Scorer | None = None
        self.stopped_early: str | None = None  # the reason, once early stopping ended the run
        self.step_started = time.monotonic()

    def callbacks(self) -> dict[str, Any]:
        """The callbacks dict for Trainer."""
        return {
            "on_train_epoch_start": self.on_epoch_start,
            "on_train_step_start": self.on_step_start,
            "on_train_step_end": self.on_step_end,
            "on_epoch_end": self.on_evaluated,
        }

    def on_evaluated(self, trainer: "Trainer") -> None:
        """After an evaluation: score it, and stop early when patience ran out."""
        from voicesmith.engines.training.scoring import EarlyStop
        from voicesmith.engines.training.vits import StopTraining

        if self.scorer is None:
            return
        try:
            self.scorer.evaluated(trainer, final=trainer.total_steps_done >= self.target)
        except EarlyStop as stop:
            self.stopped_early = str(stop)
            raise StopTraining(finished=True, early=True) from stop

    def on_epoch_start(self, _trainer: "Trainer") -> None:
        """Time the first step from here, so eval time is not counted as step time."""
        self.step_started = time.monotonic()

    def on_step_start(self, _trainer: "Trainer") -> None:
        """A SIGTERM from now on waits for the step to end."""
        self.stop.step_started()

    def on_step_end(self, trainer: "Trainer") -> None:
        """Report the step, save if due, and leave the loop at the target or on SIGTERM."""
        from voicesmith.engines.training.vits import StopTraining

        step = trainer.total_steps_done
        now = time.monotonic()
        losses = self.model.last_losses if self.model else {}
        self.progress.step(step, losses, now - self.step_started)
        self.step_started = now
        if not all(math.isfinite(value) for value in losses.values()):
            raise RunFilesError("training diverged (a loss is not finite); lower the learning rate")
        if self.save_every and step % self.save_every == 0 and step < self.target:
            trainer.save_checkpoint()
        self.stop.step_ended()
        if self.stop.requested:
            self.stop.shield()
            raise StopTraining(finished=False)
        if step >= self.target:
            raise StopTraining(finished=True)
