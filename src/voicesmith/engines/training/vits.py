"""Coqui VITS training: fine-tuning configs, the model that writes samples, and the fit loop."""

import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from trainer import Trainer, TrainerArgs
from TTS.config import load_config
from TTS.config.shared_configs import BaseDatasetConfig
from TTS.tts.configs.vits_config import VitsConfig
from TTS.tts.datasets import load_tts_samples
from TTS.tts.models.vits import Vits

from voicesmith.core.files import link_or_copy, write_wav_temp
from voicesmith.engines import runfiles
from voicesmith.engines.base_models import EngineError
from voicesmith.engines.training import accumulate
from voicesmith.engines.vits import SAMPLE_RATE

DEFAULT_TEST_SENTENCES = ["The quick brown fox jumps over the lazy dog."]
NEVER = 10**12  # a step count no run reaches: disables the Trainer's own periodic saves
_PER_DISCRIMINATOR_LOSS = re.compile(r"_(real|fake)_\d+$")


class StopTraining(Exception):  # noqa: N818 - a signal, not an error
    """Raised from a step callback to leave the fit loop; finished says whether the run is done."""

    def __init__(self, *, finished: bool, early: bool = False) -> None:
        super().__init__("finished" if finished else "stopped")
        self.finished = finished
        self.early = early  # stopped by early stopping, after an evaluation: none to add


@dataclass(frozen=True)
class RunSettings:
    """The job's training choices that every config gets, whatever its origin."""

    job_dir: Path
    dataset_dir: Path
    epochs: int
    batch_size: int
    accum_steps: int
    learning_rate: float | None
    test_sentences: list[str]
    keep_checkpoints: int
    seed: int
    use_cuda: bool


def base_config(config_path: Path) -> VitsConfig:
    """The base model's config: its audio, characters, phonemizer and architecture stay."""
    config = load_config(str(config_path))
    if not isinstance(config, VitsConfig):
        raise EngineError(f"the base model is a {config.model} model; voicesmith trains VITS only")
    args = config.model_args
    if args.use_speaker_embedding or args.use_d_vector_file or args.use_language_embedding:
        raise EngineError("multi-speaker and multilingual base models are not supported yet")
    if config.audio.sample_rate != SAMPLE_RATE:
        raise EngineError(
            f"the base model works at {config.audio.sample_rate} Hz; datasets are {SAMPLE_RATE} Hz"
        )
    return config


def apply_settings(config: VitsConfig, run: RunSettings) -> VitsConfig:
    """Set what this job decides: data, epochs, batch, paths, logging and checkpointing."""
    # The language only steers the cleaners (abbreviations, '&'); the presets are English.
    dataset = BaseDatasetConfig(
        formatter="voicesmith",
        path=str(run.dataset_dir),
        meta_file_train="metadata.csv",
        language=config.phoneme_language or "en",
    )
    config.datasets = [dataset]
    config.output_path = str(run.job_dir)
    config.run_name = runfiles.TRAINER_RUN_NAME
    config.phoneme_cache_path = str(run.job_dir / runfiles.PHONEME_CACHE_DIR)
    config.epochs = run.epochs
    config.batch_size = run.batch_size
    # Evaluation keeps no gradients, but its batch must fit as well as a training part does.
    config.eval_batch_size = -(-run.batch_size // run.accum_steps)
    if run.learning_rate is not None:
        config.lr_gen = config.lr_disc = run.learning_rate
    config.test_sentences = list(run.test_sentences)
    _apply_trainer_fields(config, run)
    return config


def _apply_trainer_fields(config: VitsConfig, run: RunSettings) -> None:
    """Trainer behaviour: we save checkpoints ourselves, so steps are counted one way."""
    config.run_eval = True
    config.test_delay_epochs = 0
    config.print_step = 10
    config.plot_step = 10
    config.save_step = NEVER
    config.save_n_checkpoints = run.keep_checkpoints
    config.save_best_after = 0
    config.dashboard_logger = "tensorboard"
    config.mixed_precision = run.use_cuda
    config.num_loader_workers = config.num_eval_loader_workers = 2 if run.use_cuda else 0
    config.training_seed = run.seed
    config.compute_input_seq_cache = False


def load_samples(
    config: VitsConfig, dataset_dir: Path, eval_split: float | None, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Train and eval samples from metadata.csv, with at least one clip in each."""
    samples, _ = load_tts_samples(config, eval_split=False, formatter=_read_metadata)
    if len(samples) < 2:
        raise EngineError("the dataset needs at least 2 clips: one to train on, one to evaluate")
    n_eval = _eval_count(len(samples), eval_split)
    random.Random(seed).shuffle(samples)
    return samples[n_eval:], samples[:n_eval]


def _eval_count(n: int, eval_split: float | None) -> int:
    """How many clips to hold out: the job's fraction, else 5% capped at 50; always 1..n-1."""
    wanted = round(n * eval_split) if eval_split else min(round(n * 0.05), 50)
    return max(1, min(n - 1, wanted))


def _read_metadata(root_path: str, meta_file: str, **_: Any) -> list[dict[str, Any]]:
    """Coqui formatter for voicesmith's metadata.csv lines: 'file.wav|transcript'."""
    root = Path(root_path)
    items = []
    for line in (root / meta_file).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        wav, _, text = line.partition("|")
        path = root / "wavs" / wav
        if not path.is_file():
            raise EngineError(f"{wav} is listed in metadata.csv but missing from {root / 'wavs'}")
        item = {"text": text, "audio_file": str(path), "speaker_name": "speaker"}
        items.append({**item, "root_path": str(root)})
    if not items:
        raise EngineError(f"the dataset in {root} has no clips")
    return items


def read_transcripts(dataset_dir: Path) -> dict[str, str]:
    """Clip name to transcript, straight from metadata.csv."""
    items = _read_metadata(str(dataset_dir), "metadata.csv")
    return {Path(item["audio_file"]).name: item["text"] for item in items}


class SampleWritingVits(Vits):
    """VITS that keeps the last step's losses and writes its test sentences as WAV files."""

    def __init__(
        self, config: VitsConfig, samples_dir: Path, accum_steps: int = 1, *, figures: bool = True
    ) -> None:
        super().__init__(config)
        self.samples_dir = samples_dir
        self.accum_steps = accum_steps  # parts each step's batch is split in (after an OOM)
        self.figures = figures  # draw TensorBoard's figures (VOICESMITH_TRAINING_FIGURES)
        self.last_losses: dict[str, float] = {}

    def optimize(self, batch: dict[str, Any], trainer: Trainer) -> tuple[dict, dict[str, Any]]:
        """A step over the batch in accum_steps parts; unsplit, the Trainer's own step runs."""
        if self.accum_steps == 1:
            # The base class's optimize declines, which is how Coqui's Trainer knows to run
            # its own step for a model that does not optimize itself.
            return super().optimize(batch, trainer)
        self.last_losses = {}
        return accumulate.step(trainer, batch, self.accum_steps)

    def train_step(
        self, batch: dict[str, Any], criterion: torch.nn.Module, optimizer_idx: int | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run the step and remember its scalar losses for progress reports."""
        outputs, losses = super().train_step(batch, criterion, optimizer_idx)
        for name, value in (losses or {}).items():
            # The discriminator's 'loss' repeats loss_disc; the generator's is the total we chart.
            if (optimizer_idx == 0 and name == "loss") or _PER_DISCRIMINATOR_LOSS.search(name):
                continue
            number = float(value.detach()) if torch.is_tensor(value) else float(value)
            if self.accum_steps > 1:  # a split step reports the mean over its parts
                number = self.last_losses.get(name, 0.0) + number / self.accum_steps
            self.last_losses[name] = number
        return outputs, losses

    def test_run(self, trainer: Any) -> dict[str, Any]:
        """Speak the test sentences with a fixed seed and no noise: only the weights differ."""
        scales = (self.inference_noise_scale, self.inference_noise_scale_dp)
        self.inference_noise_scale = self.inference_noise_scale_dp = 0.0
        try:
            with torch.random.fork_rng(devices=[]):  # training's random stream stays as it was
                torch.manual_seed(self.config.training_seed)
                return super().test_run(trainer)
        finally:
            self.inference_noise_scale, self.inference_noise_scale_dp = scales

    def train_log(self, batch: dict, outputs: dict, logger: Any, steps: int) -> None:
        """The epoch's figures and audio for TensorBoard, when figures are on."""
        if self.figures:
            super().train_log(batch, outputs, logger, steps)

    def eval_log(self, batch: dict, outputs: dict, logger: Any, steps: int) -> None:
        """The evaluation's figures and audio for TensorBoard, when figures are on."""
        if self.figures:
            super().eval_log(batch, outputs, logger, steps)

    def test_log(self, outputs: dict[str, Any], logger: Any, steps: int) -> None:
        """Log to TensorBoard, and write samples/step_<step>_<n>.wav."""
        # Without figures the samples still reach TensorBoard; only the alignment plots stay out.
        super().test_log(outputs if self.figures else {"audios": outputs["audios"]}, logger, steps)
        for name, wav in outputs["audios"].items():
            index = name.split("-", 1)[0]
            path = self.samples_dir / runfiles.sample_name(steps, index)
            self.write_sample(np.asarray(wav), path)

    def write_sample(self, wav: np.ndarray, path: Path) -> None:
        """Write float audio as a PCM16 WAV, atomically."""
        pcm = (np.clip(wav.reshape(-1), -1.0, 1.0) * 32767).astype(np.int16)
        runfiles.check(path)
        temporary = write_wav_temp(pcm, self.config.audio.sample_rate, path.parent)
        runfiles.check(path)
        os.replace(temporary, path)


def build_trainer(
    config: VitsConfig,
    model: SampleWritingVits,
    samples: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    args: TrainerArgs,
    callbacks: dict[str, Callable[[Trainer], None]],
) -> Trainer:
    """A Trainer that never reads the host's argv and has its train loader ready."""
    trainer = Trainer(
        args,
        config,
        config.output_path,
        model=model,
        train_samples=samples[0],
        eval_samples=samples[1],
        parse_command_line_args=False,
        callbacks=callbacks,
    )
    # Built now rather than lazily, so steps per epoch is known before the first step.
    trainer.train_loader = trainer.get_train_dataloader(trainer.train_samples, verbose=True)
    return trainer


def steps_per_epoch(trainer: Trainer) -> int:
    """Optimizer steps in one pass over the training clips."""
    return max(1, len(trainer.train_loader))


def continue_from(trainer: Trainer, steps_each_epoch: int) -> int:
    """Put a resumed Trainer at its checkpoint's step and that step's epoch; the step."""
    # restore_model() adds 1 to the saved step; ours already count completed steps.
    trainer.total_steps_done -= 1
    trainer.epochs_done = trainer.total_steps_done // steps_each_epoch
    return trainer.total_steps_done


def fit(trainer: Trainer, *, shield: Callable[[], None]) -> bool:
    """Train until StopTraining or SIGTERM, then save a checkpoint; True if the run finished.

    shield() is called before the final save so that a late SIGTERM cannot cut it off.
    """
    try:
        finished = _run_epochs(trainer)
        shield()
    except KeyboardInterrupt:
        finished = False
    _save_final_checkpoint(trainer)
    trainer.dashboard_logger.finish()
    return finished


def _save_final_checkpoint(trainer: Trainer) -> None:
    """Save the checkpoint a resume continues from, reusing a best model saved at this step."""
    best, checkpoint = runfiles.step_checkpoints(
        Path(trainer.output_path), trainer.total_steps_done
    )
    if checkpoint.is_file():  # scoring saved this step's checkpoint already
        return
    if not best.is_file():
        trainer.save_checkpoint()
        return
    # Both files come from the Trainer's save_model() with the same state: linking skips
    # writing a full model again (a second of I/O per GB for scratch:full).
    link_or_copy(best, checkpoint)


def _run_epochs(trainer: Trainer) -> bool:
    """The Trainer's epoch loop, ended by StopTraining from the step callback."""
    try:
        # Not trainer.fit(): it turns every exception into sys.exit and may delete the run folder.
        trainer._fit()  # noqa: SLF001
    except StopTraining as stop:
        if not stop.finished:
            return False
        if stop.early:
            return True
        # What the Trainer does after an epoch's last step: eval, test sentences, best model.
        trainer.eval_epoch()
        trainer.test_run()
        trainer.save_best_model()
        trainer.callbacks.on_epoch_end(trainer)  # the scorer's turn, as after any evaluation
    return True
