"""Speaking with a trained voice: the session's tiny run, exported and loaded both ways."""

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from voicesmith.engines.export import export_onnx, make_random_model_dir
from voicesmith.engines.quantize import (
    MIN_SNR_DB,
    MIN_SPEEDUP,
    calibration_feeds,
    compare,
    quantize_int8,
)
from voicesmith.engines.voice import TextFrontEnd, Voice, VoiceError, load_voice, read_config

pytestmark = pytest.mark.slow
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello there, how are you today?",
    "Speech synthesis is fun to test.",
    "Please close the door behind you.",
    "The weather is nice in the spring.",
]
TEXT = "A tiny voice reads this sentence aloud."


@pytest.fixture(scope="module")
def job_dir(tiny_job: dict) -> Path:
    """The session's finished scratch:tiny job, exported to ONNX by the training child."""
    assert tiny_job["job"]["status"] == "completed", tiny_job["job"]["error"]
    job = tiny_job["dir"]
    log = (job / "train.log").read_text(encoding="utf-8")
    assert "exported model.onnx" in log and "failed" not in log
    # A tiny decoder runs no faster in int8 (see the test of dropped copies): not even tried.
    assert "int8 copy not kept" in log
    return job


@pytest.fixture(scope="module")
def voices(job_dir: Path) -> dict[str, Voice]:
    """The job's voice on each backend."""
    return {name: load_voice(job_dir, backend=name) for name in ("onnx", "torch")}


@pytest.fixture(scope="module")
def int8_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random scratch:tiny model with its int8 copy, kept whatever its speed."""
    model_dir = make_random_model_dir(tmp_path_factory.mktemp("int8") / "m", "scratch:tiny")
    export_onnx(model_dir)
    assert quantize_int8(model_dir, min_speedup=0).kept
    return model_dir


def copy_job(job_dir: Path, target: Path) -> Path:
    """The files a voice needs, copied with their timestamps."""
    target.mkdir()
    for name in ("config.json", "best_model.pth", "model.onnx"):
        shutil.copy2(job_dir / name, target / name)
    return target


def test_training_leaves_an_onnx_model(job_dir: Path) -> None:
    assert (job_dir / "model.onnx").stat().st_size > 0
    assert not (job_dir / "model.int8.onnx").exists() and not list(job_dir.glob(".model.*"))
    assert json.loads((job_dir / "progress.json").read_text())["phase"] == "finishing"
    assert load_voice(job_dir).backend == "onnx"


def test_the_int8_copy_sounds_like_the_float32_model(int8_dir: Path) -> None:
    feeds = calibration_feeds(read_config(int8_dir / "config.json"))
    onnx, int8 = int8_dir / "model.onnx", int8_dir / "model.int8.onnx"
    snrs = [compare(onnx, int8, feed).snr_db for feed in feeds]
    assert min(snrs) >= MIN_SNR_DB, snrs


def test_auto_prefers_the_int8_copy_which_speaks_like_float32(int8_dir: Path) -> None:
    int8, onnx = load_voice(int8_dir), load_voice(int8_dir, backend="onnx")
    assert (int8.backend, onnx.backend) == ("onnx-int8", "onnx")
    sizes = [voice.synthesize(TEXT).size for voice in (int8, onnx)]
    assert sizes[0] > 0 and abs(sizes[0] - sizes[1]) <= 0.05 * sizes[1]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(a.size > 0 for a in pool.map(int8.synthesize, SENTENCES * 2))


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_each_backend_speaks_a_sentence(voices: dict[str, Voice], backend: str) -> None:
    voice = voices[backend]
    audio = voice.synthesize(TEXT)
    assert voice.backend == backend and voice.sample_rate == 22050 and voice.size_bytes > 0
    assert audio.dtype == np.float32 and audio.ndim == 1 and audio.size > voice.sample_rate // 4
    assert np.abs(audio).max() <= 1.0 and np.isfinite(audio).all()


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_length_scale_slows_speech(voices: dict[str, Voice], backend: str) -> None:
    voice = voices[backend]
    sizes = [voice.synthesize(TEXT, length_scale=scale).size for scale in (1.0, 1.5, 2.0)]
    # Frames per token are rounded up, so an untrained model's ~1-frame durations move in steps.
    assert sizes[0] <= sizes[1] < sizes[2]


def test_backends_agree_on_length(voices: dict[str, Voice]) -> None:
    onnx, torch = (voices[name].synthesize(TEXT).size for name in ("onnx", "torch"))
    assert abs(onnx - torch) <= 0.05 * torch


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_unknown_characters_are_reported_and_dropped(
    voices: dict[str, Voice], backend: str
) -> None:
    voice = voices[backend]
    assert voice.unknown_characters("It costs 5 € 😀, Ünits — OK?") == {"€", "😀", "—"}
    assert voice.unknown_characters(TEXT) == set()
    assert voice.synthesize("It costs 5 € 😀!").size > 0
    assert voice.synthesize("€ 😀").size == 0


@pytest.mark.parametrize("text", ["", "   ", "...", "?! ,", "(“”)"])
def test_text_without_words_gives_empty_audio(voices: dict[str, Voice], text: str) -> None:
    for voice in voices.values():
        audio = voice.synthesize(text)
        assert audio.dtype == np.float32 and audio.size == 0


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_concurrent_synthesis(voices: dict[str, Voice], backend: str) -> None:
    voice = voices[backend]
    texts = [SENTENCES[n % 4] for n in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(voice.synthesize, texts))
    assert all(audio.size > 0 for audio in results)
    if backend == "torch":  # a fixed noise seed: the same sentence gives the same audio
        assert np.array_equal(results[0], results[4])


def test_stale_onnx_falls_back_until_exported_again(job_dir: Path, tmp_path: Path) -> None:
    model_dir = copy_job(job_dir, tmp_path / "voice")
    newer = model_dir / "best_model.pth"
    shutil.copyfile(job_dir / "best_model.pth", newer)  # a new file: a newer best model
    assert load_voice(model_dir).backend == "torch"
    with pytest.raises(VoiceError, match="not exported from"):
        load_voice(model_dir, backend="onnx")
    command = [sys.executable, "-m", "voicesmith.engines.export", str(model_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert load_voice(model_dir).backend == "onnx"
    assert load_voice(model_dir, checkpoint=newer).backend == "onnx"


def test_missing_files_are_explained(job_dir: Path, tmp_path: Path) -> None:
    model_dir = copy_job(job_dir, tmp_path / "voice")
    os.remove(model_dir / "model.onnx")
    assert load_voice(model_dir).backend == "torch"
    with pytest.raises(VoiceError, match="voicesmith.engines.export"):
        load_voice(model_dir, backend="onnx")
    with pytest.raises(VoiceError, match="does not exist"):
        load_voice(model_dir, checkpoint=model_dir / "best_model_9.pth")
    with pytest.raises(VoiceError, match="config.json does not exist"):
        load_voice(tmp_path)


def test_a_random_model_dir_exports_and_speaks(tmp_path: Path) -> None:
    model_dir = make_random_model_dir(tmp_path / "random", preset="scratch:tiny")
    assert export_onnx(model_dir) == model_dir / "model.onnx"
    voice = load_voice(model_dir)
    assert voice.backend == "onnx" and voice.synthesize(TEXT).size > 0


def test_an_int8_copy_is_dropped_when_too_rough_or_stale(tmp_path: Path) -> None:
    model_dir = make_random_model_dir(tmp_path / "random", preset="scratch:tiny")
    export_onnx(model_dir)
    too_rough = quantize_int8(model_dir, min_snr_db=200, min_speedup=0)  # none is that close
    assert not too_rough.kept and 0 < too_rough.snr_db < 200
    assert not list(model_dir.glob("*int8*")) and not list(model_dir.glob(".model.*"))
    assert load_voice(model_dir).backend == "onnx"
    # By default a decoder this small is not even tried, and rightly: its int8 copy is slower.
    untried = quantize_int8(model_dir)
    assert not untried.kept and "runs no faster in int8" in str(untried)
    assert not list(model_dir.glob("*int8*")) and not list(model_dir.glob(".model.*"))
    forced = quantize_int8(model_dir, min_speedup=0)
    assert forced.kept and forced.speedup < MIN_SPEEDUP, forced
    assert load_voice(model_dir).backend == "onnx-int8"
    export_onnx(model_dir)  # a new model.onnx: the old int8 copy no longer matches it
    assert not (model_dir / "model.int8.onnx").exists()


def test_phoneme_voices_report_what_espeak_cannot_read(tmp_path: Path) -> None:
    from voicesmith.engines.vits import preset_config  # imports torch: not at collection time

    config_path = tmp_path / "config.json"
    preset_config("scratch:full").save_json(str(config_path))
    voice = TextFrontEnd(read_config(config_path))  # the text side needs no weights
    # espeak-ng reads '€' ("euros") and emoji by name; it drops what Coqui treats as pauses.
    assert voice.unknown_characters("It costs 5 € 😀 — ¿ok?") == {"—", "¿"}
    assert voice.text_ids("... !") == [] and voice.text_ids("€") != []


def test_importing_the_engine_loads_no_torch() -> None:
    code = (
        "import sys, voicesmith.engines.voice, voicesmith.engines.export;"
        "import voicesmith.engines.quantize;"
        "assert not {'torch', 'TTS', 'onnxruntime'} & set(sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
