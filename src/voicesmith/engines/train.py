"""The training child process: `python -m voicesmith.engines.train JOB_DIR` trains one job.

It reads JOB_DIR/job.json, writes progress.json and metrics.jsonl as it goes, and leaves
config.json, best_model*.pth, the last checkpoints, TensorBoard events and samples/*.wav
directly in JOB_DIR. SIGTERM stops it at the next step boundary with a checkpoint saved.
"""

import json
import logging
import math
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from voicesmith.core.files import atomic_write_text
from voicesmith.engines import intelligibility
from voicesmith.engines.base_models import (
    ZOO_NAME_RE,
    BaseModel,
    EngineError,
    resolve_base_model,
)
from voicesmith.engines.export import export_after_training
from voicesmith.engines.job_files import (
    Job,
    JobError,
    Progress,
    ensure_seed_layout,
    find_resume_dir,
    load_job,
    publish,
)
from voicesmith.engines.vocab import PRESETS, describe_unknown, unknown_characters

if TYPE_CHECKING:  # torch loads only once the job is known to be valid
    from trainer import Trainer

    from voicesmith.engines.vits import SampleWritingVits

EXIT_CANCELLED = 143
DEFAULT_SEED = 54321
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

    def __init__(self, progress: Progress, stop: StopRequest, job: Job) -> None:
        self.progress = progress
        self.stop = stop
        self.save_every = job.save_every_steps
        self.target = 0
        self.model: SampleWritingVits | None = None
        self.step_started = time.monotonic()

    def callbacks(self) -> dict[str, Any]:
        """The callbacks dict for Trainer."""
        return {
            "on_train_epoch_start": self.on_epoch_start,
            "on_train_step_start": self.on_step_start,
            "on_train_step_end": self.on_step_end,
        }

    def on_epoch_start(self, _trainer: "Trainer") -> None:
        """Time the first step from here, so eval time is not counted as step time."""
        self.step_started = time.monotonic()

    def on_step_start(self, _trainer: "Trainer") -> None:
        """A SIGTERM from now on waits for the step to end."""
        self.stop.step_started()

    def on_step_end(self, trainer: "Trainer") -> None:
        """Report the step, save if due, and leave the loop at the target or on SIGTERM."""
        from voicesmith.engines.vits import StopTraining

        step = trainer.total_steps_done
        now = time.monotonic()
        losses = self.model.last_losses if self.model else {}
        self.progress.step(step, losses, now - self.step_started)
        self.step_started = now
        if not all(math.isfinite(value) for value in losses.values()):
            raise JobError("training diverged (a loss is not finite); lower the learning rate")
        if self.save_every and step % self.save_every == 0 and step < self.target:
            trainer.save_checkpoint()
        self.stop.step_ended()
        if self.stop.requested:
            self.stop.shield()
            raise StopTraining(finished=False)
        if step >= self.target:
            raise StopTraining(finished=True)


def prepare_base(job: Job, progress: Progress) -> BaseModel | None:
    """The base model to fine-tune from, downloaded if needed; None for a scratch preset."""
    if job.base_model in PRESETS:
        return None
    if job.base_model.startswith("scratch:"):
        raise JobError(f"unknown preset {job.base_model!r}; use one of {', '.join(PRESETS)}")
    if job.base_model.startswith(("http://", "https://")) or ZOO_NAME_RE.match(job.base_model):
        progress.phase("downloading")
    return resolve_base_model(job.base_model, job.models_dir)


def build_config(job: Job, job_dir: Path, base: BaseModel | None, continue_dir: Path | None) -> Any:
    """The run's own config, the base model's, or a preset's, with this job's settings."""
    from voicesmith.engines import vits

    if continue_dir is not None:
        config = vits.base_config(continue_dir / "config.json")
    elif base is not None:
        config = vits.base_config(base.config_path)
    else:
        config = vits.preset_config(job.base_model)
    settings = vits.RunSettings(
        job_dir=job_dir,
        dataset_dir=job.dataset_dir,
        epochs=job.epochs,
        batch_size=job.batch_size,
        learning_rate=job.learning_rate,
        test_sentences=job.test_sentences or vits.DEFAULT_TEST_SENTENCES,
        keep_checkpoints=job.keep_checkpoints,
        seed=DEFAULT_SEED if job.seed is None else job.seed,
        use_cuda=_use_cuda(),
    )
    return vits.apply_settings(config, settings)


def check_vocabulary(config: Any, dataset_dir: Path) -> None:
    """Fail before training when transcripts use characters the model cannot read."""
    from voicesmith.engines.vits import read_transcripts

    unknown = unknown_characters(config.to_dict(), read_transcripts(dataset_dir))
    if unknown:
        raise JobError(describe_unknown(unknown))


def prepare_trainer(
    job: Job, job_dir: Path, base: BaseModel | None, continue_dir: Path | None, watcher: StepWatcher
) -> "Trainer":
    """Config, samples, model and Trainer, restored from the base or continued from a run."""
    from trainer import TrainerArgs

    from voicesmith.engines import vits

    config = build_config(job, job_dir, base, continue_dir)
    check_vocabulary(config, job.dataset_dir)
    samples = vits.load_samples(config, job.dataset_dir, job.eval_split, config.training_seed)
    watcher.model = model = vits.SampleWritingVits(config, job_dir / "samples")
    atomic_write_text(
        job_dir / "finetune_config.json", with_snapshot(model.config.to_json(), job.dataset_dir)
    )
    if continue_dir is not None:
        # With continue_path the Trainer reloads this file, so it must carry the job's settings.
        atomic_write_text(continue_dir / "config.json", model.config.to_json())
        args = TrainerArgs(continue_path=str(continue_dir))
    else:
        args = TrainerArgs(restore_path=str(base.checkpoint) if base else "")
    return vits.build_trainer(model.config, model, samples, args, watcher.callbacks())


def with_snapshot(config_json: str, dataset_dir: Path) -> str:
    """The run's config with the dataset snapshot (clip ids and hashes) the job trains on."""
    manifest = dataset_dir / "snapshot.json"
    if not manifest.is_file():
        return config_json
    config = json.loads(config_json)
    config["dataset_snapshot"] = json.loads(manifest.read_text(encoding="utf-8"))
    return json.dumps(config, indent=4)


def train(trainer: "Trainer", watcher: StepWatcher, progress: Progress, resumed: bool) -> bool:
    """Run the steps left to reach epochs * steps_per_epoch; True if the run finished."""
    from voicesmith.engines import vits

    per_epoch = vits.steps_per_epoch(trainer)
    start = vits.continue_from(trainer, per_epoch) if resumed else 0
    watcher.target = progress.state["epochs"] * per_epoch
    progress.start(step=start, total_steps=watcher.target, steps_per_epoch=per_epoch)
    if start >= watcher.target:
        print(f"already trained {start} of {watcher.target} steps; raise epochs to train longer")
        watcher.stop.shield()
        trainer.dashboard_logger.finish()
        return True
    progress.phase("training")
    return vits.fit(trainer, shield=watcher.stop.shield)


def run(job_dir: Path, stop: StopRequest) -> int:
    """Train the job in job_dir; the exit status."""
    job = load_job(job_dir)
    progress = Progress(job_dir, epochs=job.epochs, device=_announce_device())
    progress.phase("preparing")
    continue_dir = find_resume_dir(job_dir) if job.resume else None
    base = None if continue_dir else prepare_base(job, progress)
    progress.phase("preparing")
    watcher = StepWatcher(progress, stop, job)
    trainer = prepare_trainer(job, job_dir, base, continue_dir, watcher)
    finished = train(trainer, watcher, progress, resumed=continue_dir is not None)
    progress.phase("finishing")
    publish(Path(trainer.output_path), job_dir, job.keep_checkpoints)
    if not finished:
        step = trainer.total_steps_done
        _last_line(f"cancelled: checkpoint saved at step {step}; resume to continue")
        return EXIT_CANCELLED
    ensure_seed_layout(job_dir)
    if not stop.requested:  # a cancel that came after the last step skips the optional export
        progress.phase("exporting")
        stop.mode = "now"  # the model is saved: a stop may cut the export short
        export_after_training(job_dir)
        stop.shield()
        intelligibility.record(job, job_dir, trainer.config.test_sentences or [], progress)
    progress.phase("finishing")
    print(f"done: {trainer.total_steps_done} steps; the model is in {job_dir}")
    return 0


def _use_cuda() -> bool:
    """Whether a CUDA GPU is usable."""
    import torch

    return torch.cuda.is_available()


def _announce_device() -> str:
    """Say where training runs, warning on CPU; 'cuda' or 'cpu'."""
    if _use_cuda():
        import torch

        print(f"training on CUDA ({torch.cuda.get_device_name(0)}) with mixed precision")
        return "cuda"
    print("WARNING: CPU training is slow; no CUDA GPU was found, so a real voice takes many hours")
    return "cpu"


def watch_parent() -> None:
    """Stop, saving a checkpoint, if the supervising worker dies: no orphan trains on."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _last_line(message: str) -> None:
    """Print message after everything else already written to stdout and stderr."""
    sys.stderr.flush()
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 only with config.json and a best model in place)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m voicesmith.engines.train JOB_DIR", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    # The Trainer copies sys.argv[0] into its run folder as "the training script".
    sys.argv[0] = "voicesmith-train"
    stop = StopRequest()
    stop.install()
    watch_parent()
    try:
        return run(Path(args[0]).resolve(), stop)
    except KeyboardInterrupt:
        _last_line("cancelled before training started")
        return EXIT_CANCELLED
    except EngineError as exc:
        _last_line(f"ERROR: {exc}")
        return 1
    except Exception as exc:
        traceback.print_exc()
        _last_line(f"ERROR: training failed: {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
