"""The keyed voice signature under the watermark, and the installation secret it is keyed by."""

import io
import os
import stat

import av
import numpy as np
import pytest

from tests.factories import fixture_clips, read_pcm, speak
from voicesmith.config import Settings
from voicesmith.core import signature
from voicesmith.synthesis import formats
from voicesmith.synthesis.watermarking import SECRET_FILE, Marker, installation

SECRET = b"s" * 32
NAMES = [f"voice_{n}" for n in range(24)]


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    """Five seconds or so of espeak-ng speech at 22050 Hz."""
    path = tmp_path_factory.mktemp("sig") / "speech.wav"
    text = "The signature rides under the speech. It should survive an MP3 round trip intact."
    samples, rate = read_pcm(speak(text, path, voice="en-us+f3"))
    assert rate == signature.RATE
    return samples


def scores(samples: np.ndarray) -> dict[str, float]:
    """Every candidate voice's signature score on the samples."""
    folded = signature.fold(samples)
    return {n: signature.score(folded, signature.voice_key(SECRET, n)) for n in NAMES}


def mp3_round_trip(samples: np.ndarray) -> np.ndarray:
    """Encode to MP3 and decode again through PyAV, as a shared file would be."""
    encoded = formats.encode(samples, signature.RATE, "mp3")
    with av.open(io.BytesIO(encoded)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=signature.RATE)
        frames = [
            r.to_ndarray().ravel() for f in container.decode(audio=0) for r in resampler.resample(f)
        ]
    return np.concatenate(frames)


def test_the_own_key_stands_out_and_no_other_passes(speech):
    marked = signature.embed(speech, signature.voice_key(SECRET, "voice_3"))
    found = scores(marked)
    assert found["voice_3"] >= signature.THRESHOLD + 4, found
    assert max(v for k, v in found.items() if k != "voice_3") < signature.THRESHOLD, found


def test_the_signature_survives_mp3_and_a_delay(speech):
    marked = signature.embed(speech, signature.voice_key(SECRET, "voice_5"))
    delayed = np.concatenate([np.zeros(1500, np.float32), mp3_round_trip(marked)])
    found = scores(delayed)
    assert (
        max(found, key=found.__getitem__) == "voice_5" and found["voice_5"] >= signature.THRESHOLD
    )


def test_streamed_chunks_carry_one_signature(speech):
    key = signature.voice_key(SECRET, "voice_7")
    cut = len(speech) // 3
    chunks = [signature.embed(speech[:cut], key), signature.embed(speech[cut:], key, offset=cut)]
    assert scores(np.concatenate(chunks))["voice_7"] >= signature.THRESHOLD + 4


def snr_db(clean: np.ndarray, marked: np.ndarray) -> float:
    """How far below the speech the mark is, in dB."""
    noise = marked.astype(np.float64) - clean
    return float(10 * np.log10(np.sum(clean.astype(np.float64) ** 2) / np.sum(noise**2)))


def test_the_signature_is_quiet(speech):
    marked = signature.embed(speech, signature.voice_key(SECRET, "voice_1"))
    assert snr_db(speech, marked) >= 30
    assert np.array_equal(signature.embed(np.zeros(0, np.float32), b"k" * 32), np.zeros(0))


def test_real_recordings_carry_no_signature():
    for path, _ in fixture_clips():
        with av.open(str(path)) as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=signature.RATE)
            samples = np.concatenate(
                [
                    r.to_ndarray().ravel()
                    for f in container.decode(audio=0)
                    for r in resampler.resample(f)
                ]
            )
        assert max(scores(samples).values()) < signature.THRESHOLD, path.name


def test_silence_scores_nothing():
    assert signature.score(signature.fold(np.zeros(30000, np.float32)), b"k" * 32) == 0.0


def test_the_installation_secret_is_made_once_and_kept_private(tmp_path):
    settings = Settings(data_dir=tmp_path / "var")
    first = installation(settings)
    assert installation(settings) == first and len(first.secret) == 32
    assert first.id.startswith("vs-") and first.secret.hex() not in first.id
    assert stat.S_IMODE(os.stat(tmp_path / "var" / SECRET_FILE).st_mode) == 0o600
    other = installation(Settings(data_dir=tmp_path / "elsewhere"))
    assert other.id != first.id


def test_without_perth_the_mark_is_the_quiet_signature_alone(tmp_path, speech):
    settings = Settings(data_dir=tmp_path / "var", watermark_perth=False)
    marked = Marker(settings).mark(speech, signature.RATE, "voice_1")
    assert snr_db(speech, marked) >= 30
    key = signature.voice_key(installation(settings).secret, "voice_1")
    assert signature.score(signature.fold(marked), key) >= signature.THRESHOLD


def test_watermark_off_leaves_the_samples_alone(tmp_path, speech):
    marker = Marker(Settings(data_dir=tmp_path / "var", watermark=False))
    assert marker.mark(speech, signature.RATE, "voice_1") is speech
    assert not (tmp_path / "var" / SECRET_FILE).exists()
