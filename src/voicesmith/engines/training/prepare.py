"""Everything before the first step: the base model, the run's config, samples and Trainer."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicesmith.engines import runfiles
from voicesmith.engines.base_models import ZOO_NAME_RE, BaseModel, resolve_base_model
from voicesmith.engines.runfiles import RunFilesError, RunSpec
from voicesmith.engines.training.control import StepWatcher
from voicesmith.engines.training.progress import Progress
from voicesmith.engines.vocab import PRESETS, describe_unknown, unknown_characters

if TYPE_CHECKING:  # torch loads only once the job is known to be valid
    from trainer import Trainer

DEFAULT_SEED = 54321


def prepare_base(spec: RunSpec, progress: Progress) -> BaseModel | None:
    """The base model to fine-tune from, downloaded if needed; None for a scratch preset."""
    if spec.base_model in PRESETS:
        return None
    if spec.base_model.startswith("scratch:"):
        raise RunFilesError(f"unknown preset {spec.base_model!r}; use one of {', '.join(PRESETS)}")
    if spec.base_model.startswith(("http://", "https://")) or ZOO_NAME_RE.match(spec.base_model):
        progress.phase("downloading")
    return resolve_base_model(spec.base_model, spec.models_dir)


def build_config(
    spec: RunSpec, job_dir: Path, base: BaseModel | None, continue_dir: Path | None
) -> Any:
    """The run's own config, the base model's, or a preset's, with this job's settings."""
    from voicesmith.engines.training import vits
    from voicesmith.engines.vits import preset_config

    if continue_dir is not None:
        config = vits.base_config(continue_dir / runfiles.CONFIG_FILE)
    elif base is not None:
        config = vits.base_config(base.config_path)
    else:
        config = preset_config(spec.base_model)
    settings = vits.RunSettings(
        job_dir=job_dir,
        dataset_dir=spec.dataset_dir,
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        accum_steps=spec.grad_accum_steps,
        learning_rate=spec.learning_rate,
        test_sentences=spec.test_sentences or vits.DEFAULT_TEST_SENTENCES,
        # Scored runs keep checkpoints by their scores (scoring.py), not the Trainer's newest few.
        keep_checkpoints=vits.NEVER if spec.scoring else spec.keep_checkpoints,
        seed=DEFAULT_SEED if spec.seed is None else spec.seed,
        use_cuda=use_cuda(),
    )
    return vits.apply_settings(config, settings)


def check_vocabulary(config: Any, dataset_dir: Path) -> None:
    """Fail before training when transcripts use characters the model cannot read."""
    from voicesmith.engines.training.vits import read_transcripts

    unknown = unknown_characters(config.to_dict(), read_transcripts(dataset_dir))
    if unknown:
        raise RunFilesError(describe_unknown(unknown))


def prepare_trainer(
    spec: RunSpec,
    job_dir: Path,
    base: BaseModel | None,
    continue_dir: Path | None,
    watcher: StepWatcher,
) -> "Trainer":
    """Config, samples, model and Trainer, restored from the base or continued from a run."""
    from trainer import TrainerArgs

    from voicesmith.engines.training import vits

    config = build_config(spec, job_dir, base, continue_dir)
    check_vocabulary(config, spec.dataset_dir)
    samples = vits.load_samples(config, spec.dataset_dir, spec.eval_split, config.training_seed)
    samples_dir = job_dir / runfiles.SAMPLES_DIR
    watcher.model = model = vits.SampleWritingVits(
        config, samples_dir, spec.grad_accum_steps, figures=spec.figures
    )
    snapshot = runfiles.read_snapshot_manifest(spec.dataset_dir)
    runfiles.write_finetune_config(job_dir, with_snapshot(model.config.to_json(), snapshot))
    if continue_dir is not None:
        # With continue_path the Trainer reloads this file, so it must carry the job's settings.
        runfiles.write_config(continue_dir, model.config.to_json())
        args = TrainerArgs(continue_path=str(continue_dir))
    else:
        args = TrainerArgs(restore_path=str(base.checkpoint) if base else "")
    return vits.build_trainer(model.config, model, samples, args, watcher.callbacks())


def with_snapshot(config_json: str, snapshot: Any | None) -> str:
    """The run's config with the dataset snapshot (clip ids and hashes) the job trains on."""
    if snapshot is None:
        return config_json
    config = json.loads(config_json)
    config["dataset_snapshot"] = snapshot
    return json.dumps(config, indent=4)


def use_cuda() -> bool:
    """Whether a CUDA GPU is usable."""
    import torch

    return torch.cuda.is_available()
