"""A voice exported for Piper speaks, in the real piper-tts runtime, what voicesmith speaks."""

import asyncio
import io
import json
import subprocess
import sys
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import free_port
from tests.jobs import JOBS
from tests.wyoming import run_async
from voicesmith.core.files import link_or_copy
from voicesmith.engines import bundles
from voicesmith.engines.export import export_onnx, make_random_model_dir
from voicesmith.engines.runfiles import CONFIG_FILE, DEFAULT_CHECKPOINT, step_checkpoints
from voicesmith.engines.voice import load_voice

pytestmark = pytest.mark.slow

SENTENCE = "The birch canoe slid on the smooth planks."
CONTROL = "Is the youth's shoe measure the azure of the joy ride?"
# The real runtime in its own interpreter, as Home Assistant would load the files.
PIPER_SPEAKS = """
import json, sys
import numpy as np
from piper import PiperVoice, SynthesisConfig
voice = PiperVoice.load(sys.argv[1])
quiet = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
chunks = list(voice.synthesize(sys.argv[2], syn_config=quiet))
np.save(sys.argv[3], np.concatenate([c.audio_float_array for c in chunks]))
ids = [i for c in chunks for i in c.phoneme_ids]
print(json.dumps({"ids": ids, "rate": chunks[0].sample_rate}))
"""


def tiny_phoneme_model(path: Path) -> Path:
    """A random-weights tiny VITS that reads phonemes (scratch:full's text side), noise 0."""
    import torch
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.models.vits import Vits

    from voicesmith.engines.vits import preset_config
    from voicesmith.engines.vocab import preset_text_config

    path.mkdir(parents=True, exist_ok=True)
    config, text = preset_config("scratch:tiny"), preset_text_config("scratch:full")
    config.characters = CharactersConfig(**text.pop("characters"))
    for key, value in text.items():
        setattr(config, key, value)
    # Noise 0 in both runtimes: the same ids must then give the same samples.
    config.model_args.inference_noise_scale = config.model_args.inference_noise_scale_dp = 0.0
    torch.manual_seed(0)
    state = {"model": Vits(config).state_dict(), "config": config.to_dict(), "step": 0}
    first, _ = step_checkpoints(path, 0)
    torch.save(state, first)
    config.save_json(str(path / CONFIG_FILE))
    link_or_copy(first, path / DEFAULT_CHECKPOINT)
    return path


@pytest.fixture(scope="module")
def piper_voice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(job dir, NAME.onnx) of a tiny phoneme voice exported for Piper."""
    job_dir = tiny_phoneme_model(tmp_path_factory.mktemp("piper") / "job")
    export_onnx(job_dir)  # as training leaves it; without the int8 copy, which is not needed
    out = job_dir.parent / "out"
    assert bundles.main([str(job_dir), str(out), "--format", "piper", "--name", "tiny"]) == 0
    return job_dir, out / "tiny.onnx"


def piper_speaks(model: Path, text: str, tmp_path: Path) -> tuple[np.ndarray, dict]:
    """Float audio and phoneme ids from the piper-tts runtime in a fresh interpreter."""
    target = tmp_path / "piper.npy"
    args = [sys.executable, "-c", PIPER_SPEAKS, str(model), text, str(target)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
    return np.load(target), json.loads(done.stdout.strip().splitlines()[-1])


def log_mel(audio: np.ndarray) -> np.ndarray:
    """80-band log10 mel spectrogram at the model's own STFT settings."""
    import librosa

    mel = librosa.feature.melspectrogram(y=audio, sr=22050, n_fft=1024, hop_length=256, n_mels=80)
    return np.log10(np.maximum(mel, 1e-5))


def mel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute log-mel difference over the frames both have."""
    x, y = log_mel(a), log_mel(b)
    frames = min(x.shape[1], y.shape[1])
    return float(np.mean(np.abs(x[:, :frames] - y[:, :frames])))


def test_piper_speaks_voicesmiths_ids_and_audio(piper_voice, tmp_path: Path) -> None:
    job_dir, model = piper_voice
    ours = load_voice(job_dir, backend="onnx")
    audio, said = piper_speaks(model, SENTENCE, tmp_path)
    # The mapping's claim, checked at the source: Piper feeds the graph Coqui's own ids.
    assert said["ids"] == ours.text_ids(SENTENCE) and said["rate"] == 22050
    reference, control = ours.synthesize(SENTENCE), ours.synthesize(CONTROL)
    assert abs(len(audio) - len(reference)) <= 0.05 * len(reference)
    # Same graph, same ids, noise 0: the log-mel distance is 0 up to float noise. A random
    # model's audio barely depends on its text, so the control's distance is small too
    # (about 0.025 here); the same sentence must still be ten times closer.
    same, other = mel_distance(audio, reference), mel_distance(audio, control)
    assert same <= 1e-3 and same * 10 < other, (same, other)


def test_piper_json_describes_the_voice(piper_voice) -> None:
    _, model = piper_voice
    described = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
    assert described["audio"]["sample_rate"] == 22050 and described["espeak"]["voice"] == "en-us"
    assert described["phoneme_type"] == "espeak" and described["num_speakers"] == 1
    assert described["phoneme_id_map"]["^"] == [] and described["phoneme_id_map"]["$"] == []
    assert described["inference"] == {"noise_scale": 0.0, "length_scale": 1.0, "noise_w": 0.0}
    check = described["voicesmith"]["phoneme_check"]
    assert check["phonemizer"] == "piper-tts" and check["identical_ids"] >= 1


def test_a_character_model_is_refused_with_the_reason(tmp_path: Path, capsys) -> None:
    job_dir = make_random_model_dir(tmp_path / "chars", "scratch:tiny")
    out = tmp_path / "out"
    assert bundles.main([str(job_dir), str(out), "--format", "piper", "--name", "x"]) == 2
    assert "reads letters, not phonemes" in capsys.readouterr().err
    assert not out.exists()


def test_coqui_bundle_from_the_api_speaks_with_coquis_tts_command(server, tiny_job, tmp_path):
    job_id = tiny_job["job"]["job_id"]
    answer = server.client.get(
        f"{JOBS}/{job_id}/export", params={"format": "coqui"}, headers=server.headers
    )
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.headers["x-voicesmith-warnings"]) == []
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(tmp_path)
    assert "tts --model_path model.pth" in (tmp_path / "README.txt").read_text()
    # Coqui's own command, from the unpacked folder, as the README says.
    tts = Path(sys.executable).with_name("tts")
    command = [str(tts), "--model_path", "model.pth", "--config_path", "config.json"]
    command += ["--text", "Hello there.", "--out_path", "hello.wav"]
    subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=300, check=True)
    with wave.open(str(tmp_path / "hello.wav")) as spoken:
        assert spoken.getnframes() > 0.2 * spoken.getframerate()


def test_a_character_job_is_refused_for_piper_by_api_and_cli(server, tiny_job, tmp_path):
    job_id = tiny_job["job"]["job_id"]
    answer = server.client.get(
        f"{JOBS}/{job_id}/export", params={"format": "piper"}, headers=server.headers
    )
    assert answer.status_code == 422 and "reads letters" in answer.json()["detail"]
    command = [sys.executable, "-m", "voicesmith", "export", job_id, "--format", "piper"]
    command += ["-o", str(tmp_path), "--data-dir", str(server.data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "reads letters" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unfinished_job_is_not_exported(server, tiny_job):
    job_id = server.start(epochs=50)
    answer = server.client.get(
        f"{JOBS}/{job_id}/export", params={"format": "piper"}, headers=server.headers
    )
    assert answer.status_code == 409 and "only a completed job" in answer.json()["detail"]


def test_wyoming_piper_serves_the_exported_voice(piper_voice, tmp_path: Path) -> None:
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.tts import Synthesize, SynthesizeVoice

    job_dir, model = piper_voice
    data_dir = tmp_path / "voices"
    data_dir.mkdir()
    for path in (model, Path(f"{model}.json")):
        link_or_copy(path, data_dir / path.name)
    port = free_port()
    # Home Assistant's own Piper server, from a data dir holding only the export: offline.
    command = [sys.executable, "-m", "wyoming_piper", "--voice", "tiny", "--data-dir"]
    command += [str(data_dir), "--uri", f"tcp://127.0.0.1:{port}"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def speak() -> tuple[int, int]:
        """(rate, samples) of the voice speaking SENTENCE over Wyoming."""
        client = await _connect(port, server)
        async with client:
            voice = SynthesizeVoice(name="tiny")
            await client.write_event(Synthesize(text=SENTENCE, voice=voice).event())
            rate, samples = 0, 0
            while (event := await client.read_event()) is not None:
                if AudioStart.is_type(event.type):
                    rate = AudioStart.from_event(event).rate
                elif AudioChunk.is_type(event.type):
                    samples += len(AudioChunk.from_event(event).audio) // 2
                elif AudioStop.is_type(event.type):
                    return rate, samples
        raise AssertionError("the server closed before audio-stop")

    try:
        rate, samples = run_async(asyncio.wait_for(speak(), timeout=120))
    finally:
        server.terminate()
        server.wait(timeout=30)
    reference = load_voice(job_dir, backend="onnx").synthesize(SENTENCE)
    assert rate == 22050 and abs(samples - len(reference)) <= 0.05 * len(reference)


async def _connect(port: int, server: subprocess.Popen):
    """A Wyoming client connected once the server listens (it loads the voice first)."""
    from wyoming.client import AsyncTcpClient

    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError(server.stderr.read().decode()[-2000:])
        try:
            _, probe = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        probe.close()
        return AsyncTcpClient("127.0.0.1", port)
    raise AssertionError("wyoming-piper did not listen within 60 s")


def test_a_symbol_piper_says_but_the_voice_lacks_refuses_with_the_list() -> None:
    from TTS.tts.configs.shared_configs import CharactersConfig

    from voicesmith.engines.frontend import TextFrontEnd
    from voicesmith.engines.piper_voice import PiperExportError, check_phonemes, piper_config
    from voicesmith.engines.vits import preset_config
    from voicesmith.engines.vocab import preset_text_config

    config = preset_config("scratch:full")
    characters = preset_text_config("scratch:full")["characters"]
    # A voice whose phoneme set lacks English's r: Piper would drop it from every word.
    characters["phonemes"] = characters["phonemes"].replace("ɹ", "")
    config.characters = CharactersConfig(**characters)
    front = TextFrontEnd(config)
    described = piper_config(config, front, dataset="x", extra={})
    with pytest.raises(PiperExportError, match="'ɹ' \\(U\\+0279\\)"):
        check_phonemes(front, described)
