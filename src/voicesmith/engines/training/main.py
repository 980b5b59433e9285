"""The training child process: `python -m voicesmith.engines.training JOB_DIR` trains one job.

It reads JOB_DIR/job.json, writes progress.json and metrics.jsonl as it goes, and leaves
config.json, best_model*.pth, the last checkpoints, TensorBoard events and samples/*.wav
directly in JOB_DIR. SIGTERM stops it at the next step boundary with a checkpoint saved.
"""

import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from voicesmith.engines import runfiles
from voicesmith.engines.base_models import EngineError
from voicesmith.engines.export import export_voice
from voicesmith.engines.runfiles import RunSpec, load_spec
from voicesmith.engines.training import intelligibility, memory, saving
from voicesmith.engines.training.checkpoints import ensure_seed_layout, find_resume_dir, publish
from voicesmith.engines.training.control import StepWatcher, StopRequest
from voicesmith.engines.training.fence import Fence
from voicesmith.engines.training.prepare import prepare_base, prepare_trainer, use_cuda
from voicesmith.engines.training.progress import Progress

if TYPE_CHECKING:  # torch loads only once the job is known to be valid
    from trainer import Trainer

    from voicesmith.engines.training.scoring import Scorer

EXIT_CANCELLED = 143


def train(trainer: "Trainer", watcher: StepWatcher, progress: Progress, resumed: bool) -> bool:
    """Run the steps left to reach epochs * steps_per_epoch; True if the run finished."""
    from voicesmith.engines.training import vits

    per_epoch = vits.steps_per_epoch(trainer)
    start = vits.continue_from(trainer, per_epoch) if resumed else 0
    watcher.target = target_steps(progress, per_epoch, watcher.max_steps)
    if resumed:
        print(f"continuing from the checkpoint of step {start:,}", flush=True)
    progress.start(step=start, total_steps=watcher.target, steps_per_epoch=per_epoch)
    if start >= watcher.target:
        print(f"already trained {start} of {watcher.target} steps; raise epochs to train longer")
        watcher.stop.shield()
        trainer.dashboard_logger.finish()
        return True
    progress.phase("training")
    return vits.fit(trainer, shield=watcher.stop.shield)


def target_steps(progress: Progress, per_epoch: int, max_steps: int | None) -> int:
    """The step training ends at: the epochs' steps, capped by max_steps (epochs "auto")."""
    target = progress.state["epochs"] * per_epoch
    if max_steps and max_steps < target:
        target = max_steps
        progress.state["epochs"] = -(-target // per_epoch)
    return target


class OutOfMemory(EngineError):
    """An allocation was refused; the message says at which batch size and step."""


def run(job_dir: Path, stop: StopRequest) -> int:
    """Train the job in job_dir, saying so in progress.json when memory runs out; the status."""
    spec = load_spec(job_dir)
    progress = Progress(job_dir, epochs=spec.epochs, device=_announce_device())
    if progress.state["device"] == "cpu":
        memory.apply_limit(spec.memory_limit_mb)
    try:
        return train_job(job_dir, spec, progress, stop)
    except Exception as exc:
        if not memory.is_out_of_memory(exc):
            raise
        raise out_of_memory(spec, progress) from exc


def out_of_memory(spec: RunSpec, progress: Progress) -> OutOfMemory:
    """Record where memory ran out in progress.json, for the worker to continue smaller."""
    part = -(-spec.batch_size // spec.grad_accum_steps)
    step = progress.state["step"] + 1
    progress.state["out_of_memory"] = {"step": step, "batch_size": part}
    progress.write()
    limit = f" of a {spec.memory_limit_mb:,} MB limit" if spec.memory_limit_mb else ""
    peak = progress.state["peak_memory_mb"]
    return OutOfMemory(
        f"out of memory at batch size {part} on step {step:,} (peak {peak:,} MB{limit})"
    )


def train_job(job_dir: Path, spec: RunSpec, progress: Progress, stop: StopRequest) -> int:
    """Prepare, train, publish and export the job; the exit status."""
    progress.phase("preparing")
    saving.install_atomic_saves()
    continue_dir = find_resume_dir(job_dir) if spec.resume else None
    base = None if continue_dir else prepare_base(spec, progress)
    progress.phase("preparing")
    watcher = StepWatcher(progress, stop, spec)
    trainer = prepare_trainer(spec, job_dir, base, continue_dir, watcher)
    watcher.scorer = scorer_for(spec, job_dir, trainer, progress)
    finished = train(trainer, watcher, progress, resumed=continue_dir is not None)
    progress.phase("finishing")
    publish(Path(trainer.output_path), job_dir, spec.keep_checkpoints)
    say_stopped_early(watcher, progress)
    if not finished:
        step = trainer.total_steps_done
        _last_line(f"cancelled: checkpoint saved at step {step}; resume to continue")
        return EXIT_CANCELLED
    ensure_seed_layout(job_dir)
    if not stop.requested:  # a cancel that came after the last step skips the optional export
        progress.phase("exporting")
        stop.mode = "now"  # the model is saved: a stop may cut the export short
        export_after_training(job_dir, promoted_checkpoint(job_dir), int8=spec.int8)
        stop.shield()
        if watcher.scorer is None:  # scored runs measured it at every evaluation
            intelligibility.record(spec, job_dir, trainer.config.test_sentences or [], progress)
        else:
            intelligibility.record_scores(job_dir, progress)
    progress.phase("finishing")
    print(f"done: {trainer.total_steps_done} steps; the model is in {job_dir}")
    return 0


def scorer_for(
    spec: RunSpec, job_dir: Path, trainer: "Trainer", progress: Progress
) -> "Scorer | None":
    """The scorer of each evaluation, or None when the job turned scoring off."""
    from voicesmith.engines.training.scoring import Scorer

    if not spec.scoring:
        print("scoring is off: best_model.pth is the checkpoint with the lowest eval loss")
        return None
    texts = [s if isinstance(s, str) else s[0] for s in trainer.config.test_sentences or []]
    return Scorer(spec, job_dir, texts, progress)


def say_stopped_early(watcher: StepWatcher, progress: Progress) -> None:
    """Put the early stop and its reason in train.log and progress.json."""
    progress.state["stopped_early"] = watcher.stopped_early is not None
    if watcher.stopped_early:
        progress.state["stop_reason"] = watcher.stopped_early
        print(f"stopped early at step {progress.state['step']}: {watcher.stopped_early}")
    progress.write()


def promoted_checkpoint(job_dir: Path) -> Path | None:
    """The promoted checkpoint_<step>.pth, exported by that name so ONNX says which it is."""
    step = runfiles.read_scores(job_dir)["promoted"]
    path = None if step is None else runfiles.checkpoint_path(job_dir, step)
    return path if path is not None and path.is_file() else None


def export_after_training(
    job_dir: Path, checkpoint: Path | None = None, *, int8: bool = True
) -> None:
    """Export model.onnx at the end of a run; a failure only costs speed, so it is a warning."""
    started = time.monotonic()
    try:
        said = export_voice(job_dir, checkpoint, int8=int8)
    except KeyboardInterrupt:  # SIGTERM: the run is done, only the export is given up
        print("ONNX export stopped; synthesis will use PyTorch")
        return
    except Exception as exc:  # synthesis falls back to PyTorch, so the run still succeeds
        full = saving.disk_full(job_dir / runfiles.ONNX_FILE, exc)
        if full is not None:  # the next file written would fail too: say so, and stop here
            raise full from exc
        print(
            f"WARNING: ONNX export failed, synthesis will use PyTorch: {type(exc).__name__}: {exc}"
        )
        return
    print(f"{said} in {time.monotonic() - started:.1f} s")


def _announce_device() -> str:
    """Say where training runs, warning on CPU; 'cuda' or 'cpu'."""
    if use_cuda():
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
        print("usage: python -m voicesmith.engines.training JOB_DIR", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    # The Trainer copies sys.argv[0] into its run folder as "the training script".
    sys.argv[0] = "voicesmith-train"
    stop = StopRequest()
    stop.install()
    # Past a file size limit (RLIMIT_FSIZE), a write then fails with EFBIG, like a full disk,
    # instead of SIGXFSZ killing the process before it can say why.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    watch_parent()
    job_dir = Path(args[0]).resolve()
    attempt = runfiles.spec_attempt(job_dir)
    fence = Fence(job_dir, attempt) if attempt is not None else None
    if fence is not None:
        fence.start()
    try:
        return _main(job_dir, stop)
    finally:
        if fence is not None:
            fence.close()


def _main(job_dir: Path, stop: StopRequest) -> int:
    """Run the job; its exit status, with the reason of a failure as train.log's last line."""
    try:
        return run(job_dir, stop)
    except KeyboardInterrupt:
        _last_line("cancelled before training started")
        return EXIT_CANCELLED
    except OutOfMemory as exc:
        _last_line(f"ERROR: {exc}")
        return runfiles.EXIT_OUT_OF_MEMORY
    except EngineError as exc:
        _last_line(f"ERROR: {exc}")
        return 1
    except Exception as exc:
        traceback.print_exc()
        _last_line(f"ERROR: training failed: {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
