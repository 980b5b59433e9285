"""The dry run: `python -m voicesmith.engines.training.probe JOB_DIR` times a job before it runs.

It reads JOB_DIR/job.json like the training child and builds the same config, model and
Trainer. It warms up on the shortest clips' batch, times real steps on the longest clips'
batch (then the shortest again), one evaluation with the test sentences, one checkpoint save
and one scoring, and writes JOB_DIR/estimate.json.
Out of memory, it splits the batch as the job's own recovery would, until it fits.
"""

import contextlib
import gc
import logging
import os
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicesmith.engines import runfiles
from voicesmith.engines.base_models import EngineError
from voicesmith.engines.runfiles import RunSpec, load_spec
from voicesmith.engines.training import forecast, memory
from voicesmith.engines.training.prepare import (
    build_config,
    check_vocabulary,
    prepare_base,
    use_cuda,
)
from voicesmith.engines.training.progress import Progress

if TYPE_CHECKING:  # torch loads only once the job is known to be valid
    from trainer import Trainer

TIMED_SECONDS = 3.0  # steady steps on the longest batch are timed until this much has passed
MAX_TIMED_STEPS = 3


def build_trainer(spec: RunSpec, job_dir: Path, progress: Progress) -> "Trainer":
    """The job's own config, samples, model and Trainer, without the job's callbacks."""
    from trainer import TrainerArgs
    from trainer.generic_utils import KeepAverage

    from voicesmith.engines.training import vits

    base = prepare_base(spec, progress)
    config = build_config(spec, job_dir, base, None)
    check_vocabulary(config, spec.dataset_dir)
    samples = vits.load_samples(config, spec.dataset_dir, spec.eval_split, config.training_seed)
    (job_dir / runfiles.SAMPLES_DIR).mkdir(exist_ok=True)
    model = vits.SampleWritingVits(
        config, job_dir / runfiles.SAMPLES_DIR, spec.grad_accum_steps, figures=spec.figures
    )
    args = TrainerArgs(restore_path=str(base.checkpoint) if base else "")
    trainer = vits.build_trainer(model.config, model, samples, args, {})
    trainer.keep_avg_train, trainer.keep_avg_eval = KeepAverage(), KeepAverage()
    return trainer


class Probe:
    """Real steps of one Trainer on chosen batches, timed, with the batch split on OOM."""

    def __init__(self, trainer: "Trainer", spec: RunSpec) -> None:
        self.trainer = trainer
        self.spec = spec
        self.parts = spec.grad_accum_steps
        dataset = trainer.train_loader.dataset
        # The loader's own order, short to long; sizes in 16-bit samples, as it measures them.
        self.items: list[dict[str, Any]] = list(dataset.samples)
        self.lengths = [os.path.getsize(item["audio_file"]) / 2 for item in self.items]
        # With loader workers (CUDA) a batch loads while the last step runs; without, it adds.
        self.loading_counts = trainer.config.num_loader_workers == 0

    def batch(self, items: list[dict[str, Any]]) -> tuple[dict[str, Any], float]:
        """One formatted batch of exactly these clips, and the seconds it took to load."""
        began = time.perf_counter()
        loader = self.trainer.get_train_dataloader(items, verbose=False)
        batch = self.trainer.format_batch(next(iter(loader)))
        return batch, time.perf_counter() - began

    def steps(self, batch: dict[str, Any], loading: float, count: int) -> list[float]:
        """Seconds of each of count real training steps on the batch."""
        self.trainer.model.train()
        times = []
        for _ in range(count):
            began = time.perf_counter()
            self.trainer.train_step(batch, 1, 0, time.time())
            times.append(time.perf_counter() - began + (loading if self.loading_counts else 0.0))
        return times

    def fitting_steps(
        self, warm: list[dict[str, Any]], items: list[dict[str, Any]]
    ) -> tuple[float, list[float]]:
        """A warm-up step, then timed steps on items; the batch split in more parts on OOM."""
        while True:
            try:
                # The first steps at a batch's size pay for set-up (several times a steady
                # step on big models): the cheap shortest batch pays it, untimed as a step.
                return self.steps(*self.batch(warm), 1)[0], self._timed(items)
            except Exception as exc:
                if not memory.is_out_of_memory(exc):
                    raise
                self._free()
                if self.micro_batch <= 1:
                    raise EngineError(self._no_fit()) from exc
                print(f"out of memory at batch size {self.micro_batch}; trying half of it")
                self.parts *= 2
                self.trainer.model.accum_steps = self.parts
                self.trainer.config.eval_batch_size = self.micro_batch

    def _timed(self, items: list[dict[str, Any]]) -> list[float]:
        """Steps until TIMED_SECONDS have passed (at most MAX_TIMED_STEPS); each one's seconds."""
        batch, loading = self.batch(items)
        times = self.steps(batch, loading, 1)
        while len(times) < MAX_TIMED_STEPS and sum(times) < TIMED_SECONDS:
            times += self.steps(batch, loading, 1)
        return times

    @property
    def micro_batch(self) -> int:
        """The clips one part of a step holds."""
        return -(-self.spec.batch_size // self.parts)

    def _free(self) -> None:
        """Drop what the failed step held, so the next try starts from the model alone."""
        self.trainer.model.zero_grad(set_to_none=True)
        gc.collect()
        if self.trainer.use_cuda:
            import torch

            torch.cuda.empty_cache()

    def _no_fit(self) -> str:
        """What to change when even one clip a step does not fit."""
        limit = f"{self.spec.memory_limit_mb:,} MB" if self.spec.memory_limit_mb else "memory"
        return (
            f"even batch size 1 does not fit in {limit} with the longest clip; "
            "shorten the longest clips or allow more memory (VOICESMITH_TRAINING_MEMORY_LIMIT_MB)"
        )


def timed(action: Any) -> float:
    """Seconds action() took."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def measure(probe: Probe, spec: RunSpec, job_dir: Path, progress: Progress) -> forecast.Measured:
    """Time the longest and shortest batches, an evaluation, a save and a scored evaluation."""
    size = spec.batch_size
    warm, timed_longest = probe.fitting_steps(probe.items[:size], probe.items[-size:])
    longest = statistics.fmean(timed_longest)
    shortest = probe.steps(*probe.batch(probe.items[:size]), 1)[0]
    line = forecast.Measured(
        longest=(max(forecast.padded_sizes(probe.lengths[-size:], size)), longest),
        shortest=(max(forecast.padded_sizes(probe.lengths[:size], size)), shortest),
        first_step_extra=0.0,
        evaluation=0.0,
        save=0.0,
    )
    trainer = probe.trainer
    evaluation = timed(trainer.eval_epoch) + timed(trainer.test_run)
    save = timed(trainer.save_checkpoint)
    first, again = score(trainer, spec, job_dir, progress) if spec.scoring else (0.0, 0.0)
    return forecast.Measured(
        longest=line.longest,
        shortest=line.shortest,
        first_step_extra=max(0.0, warm - shortest),
        evaluation=evaluation,
        save=save,
        score_first=first,
        score_again=again + save,
    )


def score(
    trainer: "Trainer", spec: RunSpec, job_dir: Path, progress: Progress
) -> tuple[float, float]:
    """Seconds of the first scored evaluation (models loaded, save included) and of a later one."""
    from voicesmith.engines.training.scoring import EarlyStop, Scorer

    texts = [s if isinstance(s, str) else s[0] for s in trainer.config.test_sentences or []]
    scorer = Scorer(spec, job_dir, texts, progress)
    began = time.perf_counter()
    with contextlib.suppress(EarlyStop):  # patience is the job's business, not the probe's
        scorer.evaluated(trainer, final=True)
    first = time.perf_counter() - began
    # The models stay loaded: a second scoring of the same samples costs what later ones do.
    again = timed(lambda: scorer._score(trainer, trainer.total_steps_done))  # noqa: SLF001
    return first, again


def estimate(spec: RunSpec, job_dir: Path, device: str) -> dict[str, Any]:
    """Measure the job and forecast it: the fields of estimate.json."""
    from voicesmith.engines.training import vits
    from voicesmith.engines.training.main import target_steps

    progress = Progress(job_dir, epochs=spec.epochs, device=device)
    probe = Probe(build_trainer(spec, job_dir, progress), spec)
    per_epoch = vits.steps_per_epoch(probe.trainer)
    total = target_steps(progress, per_epoch, spec.max_steps)
    measured = measure(probe, spec, job_dir, progress)
    sizes = forecast.padded_sizes(probe.lengths, spec.batch_size)
    plan = forecast.Plan(sizes, total, spec.scoring, spec.score_budget)
    seconds = forecast.training_seconds(measured, plan)
    return {
        "device": device,
        "seconds_per_step": round(sum(forecast.epochs(measured, plan)) / total, 4),
        "steps_per_epoch": per_epoch,
        "total_steps": total,
        "estimated_seconds": round(seconds, 1),
        "peak_memory_mb": round(progress.memory.peak_mb()),
        "memory_limit_mb": round(memory.limit_mb(device == "cuda", spec.memory_limit_mb)),
        "fits": probe.parts == spec.grad_accum_steps,
        "suggested_batch_size": probe.micro_batch,
        "batch_size": spec.batch_size,
        "grad_accum_steps": probe.parts,
        "measured": {k: getattr(measured, k) for k in measured.__dataclass_fields__},
    }


def run(job_dir: Path) -> int:
    """Probe the job in job_dir and write estimate.json; the exit status."""
    spec = load_spec(job_dir)
    device = "cuda" if use_cuda() else "cpu"
    if device == "cpu":
        memory.apply_limit(spec.memory_limit_mb)
    began = time.monotonic()
    found = estimate(spec, job_dir, device)
    found["probe_seconds"] = round(time.monotonic() - began, 1)
    runfiles.write_estimate(job_dir, found)
    print(f"estimate: {found}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 with estimate.json written, else 1 after a last `ERROR: ...` line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m voicesmith.engines.training.probe JOB_DIR", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    sys.argv[0] = "voicesmith-probe"  # the Trainer copies it into its run folder
    try:
        return run(Path(args[0]).resolve())
    except EngineError as exc:
        message = f"ERROR: {exc}"
    except Exception as exc:
        traceback.print_exc()
        message = f"ERROR: the dry run failed: {type(exc).__name__}: {exc}"
    sys.stderr.flush()
    print(message, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
