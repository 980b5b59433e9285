"""A job's voice for other runtimes: `python -m voicesmith.engines.bundles JOB_DIR OUT_DIR`.

`--format piper` writes NAME.onnx + NAME.onnx.json (a Piper voice); `--format coqui` writes
model.pth, config.json and README.txt for Coqui's own `tts` command. Run as a child process
by the API and the CLI, so torch and ONNX work never runs in a request's process. Exit status
2 means the voice cannot be exported faithfully; stderr says why.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from voicesmith.core.files import atomic_write_bytes, link_or_copy
from voicesmith.engines.base_models import EngineError
from voicesmith.engines.export import export_voice
from voicesmith.engines.frontend import TextFrontEnd
from voicesmith.engines.piper_voice import (
    PiperExportError,
    check_phonemes,
    mappable,
    piper_config,
)
from voicesmith.engines.runfiles import CONFIG_FILE, DEFAULT_CHECKPOINT, ONNX_FILE
from voicesmith.engines.voice import STAMP_KEYS, checkpoint_stamp, read_config

FORMATS = ("piper", "coqui")
REFUSED = 2
COQUI_MODEL = "model.pth"
# Settings that name files of the training run; meaningless once the zip is unpacked elsewhere.
COQUI_RUN_PATHS = ("output_path", "phoneme_cache_path", "speakers_file", "d_vector_file")


def export_piper(job_dir: Path, out_dir: Path, name: str) -> tuple[list[Path], list[str]]:
    """NAME.onnx and NAME.onnx.json of the job's promoted checkpoint, and the warnings."""
    if not (job_dir / CONFIG_FILE).is_file():
        raise EngineError(f"{job_dir / CONFIG_FILE} does not exist; is this a finished job?")
    # From the JSON first: a refusal then costs no import of Coqui TTS.
    mappable(json.loads((job_dir / CONFIG_FILE).read_text(encoding="utf-8")))
    config = read_config(job_dir / CONFIG_FILE)
    front = TextFrontEnd(config)
    checkpoint = job_dir / DEFAULT_CHECKPOINT
    extra: dict[str, Any] = {"job_dir": job_dir.name, "checkpoint": checkpoint.name}
    described = piper_config(config, front, dataset=name, extra=extra)
    check = check_phonemes(front, described)
    extra.update(phoneme_check=check.as_dict(), warnings=check.warnings())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = out_dir / f"{name}.onnx"
    link_or_copy(_current_onnx(job_dir, checkpoint), model)
    voice = out_dir / f"{name}.onnx.json"
    _write(voice, json.dumps(described, ensure_ascii=False, indent=2) + "\n")
    return [model, voice], check.warnings()


def _current_onnx(job_dir: Path, checkpoint: Path) -> Path:
    """The job's model.onnx, exported again first when missing or from another checkpoint."""
    target = job_dir / ONNX_FILE
    if not (target.is_file() and _stamp_of(target) == _wanted(checkpoint)):
        export_voice(job_dir, checkpoint)
    return target


def _stamp_of(onnx_file: Path) -> dict[str, str]:
    """The checkpoint stamp stored in an ONNX file's metadata."""
    import onnx

    graph = onnx.load(str(onnx_file), load_external_data=False)
    return {p.key: p.value for p in graph.metadata_props if p.key in STAMP_KEYS}


def _wanted(checkpoint: Path) -> dict[str, str]:
    """The stamp an ONNX file exported from checkpoint carries."""
    return {k: v for k, v in checkpoint_stamp(checkpoint).items() if k in STAMP_KEYS}


def export_coqui(job_dir: Path, out_dir: Path, name: str) -> tuple[list[Path], list[str]]:
    """model.pth, config.json and README.txt that Coqui's `tts` command speaks as they are."""
    read_config(job_dir / CONFIG_FILE)  # refuses what voicesmith could not speak either
    raw = json.loads((job_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    for key in COQUI_RUN_PATHS:
        if raw.get(key):
            raw[key] = None if key != "output_path" else "."
    # Training data stays behind; inference reads none of it.
    raw["datasets"] = [
        {**d, "path": "", "meta_file_train": "", "meta_file_val": ""}
        for d in raw.get("datasets") or []
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    model = out_dir / COQUI_MODEL
    link_or_copy(job_dir / DEFAULT_CHECKPOINT, model)
    config = out_dir / CONFIG_FILE
    _write(config, json.dumps(raw, ensure_ascii=False, indent=2) + "\n")
    readme = out_dir / "README.txt"
    _write(readme, _coqui_readme(name))
    return [model, config, readme], []


def _write(path: Path, text: str) -> None:
    """Write a file others read (mkstemp alone would leave it private to us), atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=0o644)


def _coqui_readme(name: str) -> str:
    """How to speak the bundle with Coqui TTS."""
    return (
        f"{name}: a Coqui TTS VITS voice exported by voicesmith.\n\n"
        "Install Coqui TTS (pip install coqui-tts; phoneme voices also need espeak-ng), then,\n"
        "in this folder:\n\n"
        '  tts --model_path model.pth --config_path config.json --text "Hello there." '
        "--out_path hello.wav\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; prints the files written and the warnings as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m voicesmith.engines.bundles")
    parser.add_argument("job_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--name", required=True, help="the voice's file name stem")
    args = parser.parse_args(argv)
    export = export_piper if args.format == "piper" else export_coqui
    try:
        files, warnings = export(args.job_dir.resolve(), args.out_dir, args.name)
    except PiperExportError as exc:
        print(str(exc), file=sys.stderr)
        return REFUSED
    except EngineError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"files": [f.name for f in files], "warnings": warnings}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
