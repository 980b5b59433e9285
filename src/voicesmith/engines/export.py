"""ONNX export of a trained VITS generator: `python -m voicesmith.engines.export JOB_DIR`.

Coqui's own Vits.export_onnx does the tracing; we add which checkpoint the file came from (so a
stale model.onnx is never used for a newer checkpoint) and write the result atomically. An int8
copy (quantize.py) follows, which synthesis prefers.
"""

import argparse
import io
import sys
import time
import warnings
from pathlib import Path

from voicesmith.core.files import atomic_write_bytes, link_or_copy
from voicesmith.engines import runfiles
from voicesmith.engines.base_models import EngineError
from voicesmith.engines.quantize import quantize_int8
from voicesmith.engines.runfiles import (
    CONFIG_FILE,
    DEFAULT_CHECKPOINT,
    INT8_ONNX_FILE,
    ONNX_FILE,
    step_checkpoints,
)
from voicesmith.engines.voice import checkpoint_stamp, load_generator, read_config

# A temporary file this old was left by an export that was killed.
STALE_PART_SECONDS = 3600


def export_onnx(job_dir: Path, checkpoint: Path | None = None) -> Path:
    """Export the generator of checkpoint (default best_model.pth) to JOB_DIR/model.onnx."""
    import onnx

    source = checkpoint or job_dir / DEFAULT_CHECKPOINT
    model = load_generator(read_config(job_dir / CONFIG_FILE), source)
    _remove_stale_parts(job_dir)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The tracer warns about every Python branch on a tensor; Coqui's export expects that.
        warnings.simplefilter("ignore")
        model.export_onnx(buffer, verbose=False)
    graph = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(graph, checkpoint_stamp(source))
    target = job_dir / ONNX_FILE
    runfiles.check(target)  # an export of an attempt that was taken over is not written
    # The int8 copy belongs to the old model.onnx; quantize_int8 makes a new one.
    (job_dir / INT8_ONNX_FILE).unlink(missing_ok=True)
    # mkstemp makes it private; a model is no secret
    atomic_write_bytes(target, graph.SerializeToString(), mode=0o644)
    return target


def export_voice(job_dir: Path, checkpoint: Path | None = None, *, int8: bool = True) -> str:
    """model.onnx and, unless int8 is False, model.int8.onnx; says what was written."""
    export_onnx(job_dir, checkpoint)
    if not int8:
        return f"exported {ONNX_FILE}"
    try:
        verdict = quantize_int8(job_dir)
    except Exception as exc:  # the float32 model is in place; int8 is only faster
        return f"exported {ONNX_FILE}; WARNING: its int8 copy failed: {type(exc).__name__}: {exc}"
    return f"exported {ONNX_FILE}; {verdict}"


def promote(job_dir: Path, step: int, *, int8: bool = True) -> str:
    """Make checkpoint_<step>.pth the voice: best_model.pth, model.onnx and its int8 copy."""
    source = runfiles.checkpoint_path(job_dir, step)
    if not source.is_file():
        raise EngineError(f"{source} does not exist; it was never saved or was pruned")
    said = export_voice(job_dir, source, int8=int8)
    # Re-pointed only after the export: the voice cache keys on best_model.pth's identity, so
    # a voice loaded under the new key always finds the ONNX file of this checkpoint.
    link_or_copy(source, job_dir / DEFAULT_CHECKPOINT)
    runfiles.write_override(job_dir, step)
    return said


def _remove_stale_parts(job_dir: Path) -> None:
    """Delete temporary files of exports killed long ago (each is as big as the model)."""
    for part in job_dir.glob(f".{ONNX_FILE}.*.part"):
        if time.time() - part.stat().st_mtime > STALE_PART_SECONDS:
            part.unlink(missing_ok=True)


def make_random_model_dir(path: Path, preset: str = "scratch:full") -> Path:
    """A job-like folder (config.json, best_model_0.pth, best_model.pth) of an untrained VITS."""
    import torch
    from TTS.tts.models.vits import Vits

    from voicesmith.engines.vits import preset_config

    path.mkdir(parents=True, exist_ok=True)
    config = preset_config(preset)
    torch.manual_seed(0)
    # With its discriminator, like a Trainer checkpoint, so Coqui's own loaders accept it.
    model = Vits(config)
    state = {"model": model.state_dict(), "config": config.to_dict(), "step": 0, "epoch": 0}
    first, _ = step_checkpoints(path, 0)
    torch.save(state, first)
    config.save_json(str(path / CONFIG_FILE))
    link_or_copy(first, path / DEFAULT_CHECKPOINT)
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m voicesmith.engines.export", description="Export a job's VITS to ONNX."
    )
    parser.add_argument("job_dir", type=Path, help="the job folder holding config.json")
    parser.add_argument("--checkpoint", type=Path, help="default: JOB_DIR/best_model.pth")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 copy")
    parser.add_argument(
        "--promote", type=int, metavar="STEP", help="make this checkpoint the voice"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    job_dir, int8 = args.job_dir.resolve(), not args.no_int8
    try:
        if args.promote is not None:
            said = promote(job_dir, args.promote, int8=int8)
        else:
            said = export_voice(job_dir, args.checkpoint, int8=int8)
    except EngineError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"{said} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
