"""The watermark in the API's speech, found again by /admin/detect, and not in real recordings."""

import io
import os

import av
import httpx
import numpy as np
import pytest

from tests.conftest import ADMIN_PASSWORD, login, start_server, stop_server
from tests.factories import fixture_clips, transcode
from tests.slow.conftest import Api
from voicesmith.config import Settings
from voicesmith.core.files import write_wav_temp
from voicesmith.datasets.audio import TARGET_RATE, decode_to_pcm16
from voicesmith.engines import watermark
from voicesmith.synthesis.watermarking import Marker

pytestmark = pytest.mark.slow
SPEAK = "/api/v1/synthesize-trained"
DETECT = "/api/v1/admin/detect"
TEXT = "The first sentence is here. Then comes a second one! And is this the third?"


def detect(server: Api, name: str, content: bytes) -> dict:
    response = server.client.post(DETECT, files={"audio": (name, content)}, headers=server.headers)
    assert response.status_code == 200, response.text
    return response.json()


def mp3_round_trip(wav: bytes, tmp_path) -> bytes:
    """The WAV encoded as MP3 and decoded again by PyAV, as a shared clip would be."""
    source = tmp_path / "spoken.wav"
    source.write_bytes(wav)
    mp3 = transcode(source, tmp_path / "spoken.mp3", codec="libmp3lame")
    with av.open(str(mp3)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=22050)
        pcm = [
            r.to_ndarray().ravel() for f in container.decode(audio=0) for r in resampler.resample(f)
        ]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=22050, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.concatenate(pcm).reshape(1, -1), format="s16", layout="mono"
        )
        frame.rate = 22050
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def spoken(server: Api, tiny_job) -> tuple[str, bytes]:
    """The tiny voice's id and a WAV it spoke through the API."""
    job_id = tiny_job["job"]["job_id"]
    body = {"text": TEXT, "job_id": job_id, "format": "wav"}
    response = server.client.post(SPEAK, json=body, headers=server.headers)
    assert response.status_code == 200, response.text
    return job_id, response.content


def test_the_api_output_carries_the_voice_and_installation(server, spoken):
    job_id, wav = spoken
    found = detect(server, "spoken.wav", wav)
    # Only the signature is asserted here: a tiny voice trained for seconds speaks noise,
    # which PerTh, a network trained on speech, marks on some runs and not on others.
    assert found["watermarked"] is True, found
    assert found["voice"] == job_id and found["installation"].startswith("vs-"), found


def test_marked_real_speech_carries_perth_and_the_voice(server, spoken, tmp_path):
    job_id, _ = spoken
    settings = Settings(data_dir=server.data_dir, admin_password=ADMIN_PASSWORD)
    path, _ = fixture_clips()[0]
    clean = decode_to_pcm16(path, max_seconds=60).samples.astype(np.float32) / 32768.0
    marked = Marker(settings).mark(clean, TARGET_RATE, job_id)
    pcm = (np.clip(marked, -1, 1) * 32767).astype(np.int16)
    found = detect(server, "marked.wav", write_wav_temp(pcm, TARGET_RATE, tmp_path).read_bytes())
    assert found["score"] == 1.0 and found["voice"] == job_id, found


def test_our_perth_pipeline_marks_as_the_library_does():
    path, _ = fixture_clips()[1]
    clean = decode_to_pcm16(path, max_seconds=60).samples.astype(np.float32) / 32768.0
    ours = watermark.apply(clean, TARGET_RATE)
    library = watermark._watermarker().apply_watermark(clean, sample_rate=TARGET_RATE)
    assert len(ours) == len(clean)
    # The library's resampling back can end a few samples short; ours keeps the clip's length.
    same = min(len(ours), len(library))
    assert same > len(clean) - 500 and np.abs(ours[:same] - library[:same]).max() < 1e-5
    assert watermark.confidence(ours, TARGET_RATE) == 1.0


def test_the_watermark_survives_an_mp3_round_trip(server, spoken, tmp_path):
    job_id, wav = spoken
    found = detect(server, "spoken.mp3.wav", mp3_round_trip(wav, tmp_path))
    assert found["watermarked"] is True, found
    assert found["voice"] == job_id, found
    mp3 = transcode(tmp_path / "spoken.wav", tmp_path / "again.mp3", codec="libmp3lame")
    assert detect(server, "spoken.mp3", mp3.read_bytes())["voice"] == job_id


def test_streamed_speech_is_marked_too(server, spoken):
    job_id, _ = spoken
    body = {"text": TEXT, "job_id": job_id, "stream": True}
    with server.client.stream("POST", SPEAK, json=body, headers=server.headers) as response:
        content = b"".join(response.iter_raw())
    assert response.status_code == 200
    found = detect(server, "streamed.wav", content)
    assert found["watermarked"] is True and found["voice"] == job_id, found


def test_real_recordings_are_not_watermarked(server):
    for path, _ in fixture_clips():
        found = detect(server, path.name, path.read_bytes())
        assert found["watermarked"] is False, (path.name, found)
        assert found["voice"] is None and found["installation"] is None


def test_watermark_off_gives_unmarked_speech(server, tiny_job, tmp_path):
    env = {**os.environ, "VOICESMITH_WATERMARK": "false"}
    env["VOICESMITH_DEFAULT_BASE_MODEL"] = str(tiny_job["dir"])
    proc, base = start_server(tmp_path / "var", env)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            headers = login(client, "admin", ADMIN_PASSWORD)
            response = client.post("/api/v1/synthesize", json={"text": TEXT}, headers=headers)
    finally:
        stop_server(proc)
    assert response.status_code == 200, response.text
    found = detect(server, "unmarked.wav", response.content)
    assert found["watermarked"] is False and found["voice"] is None, found
