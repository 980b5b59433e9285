"""The baseline for benchmarks/training.py: a plain Coqui recipe, Trainer.fit() and nothing else.

It builds the same config and the same train/eval split as a voicesmith job (through the
engine's own config helpers, so both sides train the identical model on identical data),
then runs Coqui's Trainer.fit() with no callbacks, progress files or sample writing.
Usage: python benchmarks/coqui_recipe.py DATASET_DIR OUT_DIR PRESET EPOCHS BATCH_SIZE
"""

import sys
import time
from pathlib import Path

STARTED = time.perf_counter()


def main(dataset_dir: str, out_dir: str, preset: str, epochs: str, batch_size: str) -> None:
    """Train once and print how long the process took."""
    import torch
    from trainer import Trainer, TrainerArgs
    from TTS.tts.models.vits import Vits

    from voicesmith.engines.training import vits
    from voicesmith.engines.vits import preset_config

    run = vits.RunSettings(
        job_dir=Path(out_dir),
        dataset_dir=Path(dataset_dir),
        epochs=int(epochs),
        batch_size=int(batch_size),
        learning_rate=None,
        test_sentences=list(vits.DEFAULT_TEST_SENTENCES),
        keep_checkpoints=2,
        seed=54321,
        use_cuda=torch.cuda.is_available(),
    )
    config = vits.apply_settings(preset_config(preset), run)
    train, evaluation = vits.load_samples(config, Path(dataset_dir), None, run.seed)
    model = Vits.init_from_config(config)
    trainer = Trainer(
        TrainerArgs(),
        config,
        config.output_path,
        model=model,
        train_samples=train,
        eval_samples=evaluation,
        parse_command_line_args=False,
    )
    trainer.fit()
    print(f"BASELINE_STEPS {trainer.total_steps_done}")
    print(f"BASELINE_SECONDS {time.perf_counter() - STARTED:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:6])
