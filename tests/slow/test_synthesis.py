"""Speaking with a trained tiny voice through every route and format, against a live server."""

import io
import os
import subprocess
import sys
import time

import av
import httpx
import openai
import pytest

from tests.conftest import USER_PASSWORD, login, start_server, stop_server
from tests.factories import readme_block, run_snippet
from tests.slow.conftest import Api
from voicesmith.engines.quantize import quantize_int8

pytestmark = pytest.mark.slow
SPEAK = "/api/v1/synthesize-trained"
THREE = "The first sentence is here. Then comes a second one! And is this the third?"


def decoded_seconds(content: bytes) -> float:
    """Length of an encoded audio file, decoded by FFmpeg."""
    with av.open(io.BytesIO(content)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def share(server: Api, name: str, mode: str = "everyone", users: tuple[str, ...] = ()) -> None:
    """Share a voice name as an admin; new voices start private."""
    body = {"mode": mode, "users": list(users)}
    url = f"/api/v1/admin/voices/{name}/sharing"
    response = server.client.put(url, json=body, headers=server.headers)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def voice(server: Api, tiny_job) -> str:
    """The tiny job's id: a voice, shared with everyone."""
    assert tiny_job["job"]["status"] == "completed"
    share(server, tiny_job["job"]["job_id"])
    return tiny_job["job"]["job_id"]


@pytest.fixture(scope="session")
def user(server: Api) -> dict[str, str]:
    """A non-admin user's headers."""
    body = {"username": "listener", "password": USER_PASSWORD, "role": "user"}
    server.client.post("/api/v1/admin/users", json=body, headers=server.headers)
    return login(server.client, "listener", USER_PASSWORD)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg", "opus", "flac"])
def test_every_format_decodes(server, voice, user, fmt):
    response = server.client.post(
        SPEAK, json={"text": "Hello there.", "job_id": voice, "format": fmt}, headers=user
    )
    assert response.status_code == 200, response.text
    assert decoded_seconds(response.content) > 0.1
    assert response.headers["x-voicesmith-backend"] == "onnx"


def test_seed_request_returns_22050_mono_pcm16_wav(server, voice, user):
    response = server.client.post(SPEAK, json={"text": THREE, "job_id": voice}, headers=user)
    assert response.headers["content-type"] == "audio/wav"
    with av.open(io.BytesIO(response.content)) as container:
        ctx = container.streams.audio[0].codec_context
        assert (ctx.name, ctx.sample_rate, ctx.channels) == ("pcm_s16le", 22050, 1)
    pcm = server.client.post(
        SPEAK, json={"text": THREE, "job_id": voice, "format": "pcm"}, headers=user
    )
    assert len(pcm.content) == len(response.content) - 44


def test_speed_changes_the_length(server, voice, user):
    lengths = [
        decoded_seconds(
            server.client.post(
                SPEAK, json={"text": THREE, "job_id": voice, "speed": speed}, headers=user
            ).content
        )
        for speed in (0.5, 2.0)
    ]
    assert lengths[0] > lengths[1] * 1.5


def test_int8_and_torch_give_the_same_length(server, user):
    job_id = server.start(epochs=1)
    assert server.wait(job_id)["status"] == "completed"
    job_dir = server.data_dir / "training_runs" / job_id
    # A tiny decoder's int8 copy is slower and rough, so training left none; force one.
    assert quantize_int8(job_dir, min_snr_db=0, min_speedup=0).kept
    share(server, job_id)
    onnx = server.client.post(SPEAK, json={"text": THREE, "job_id": job_id}, headers=user)
    assert onnx.headers["x-voicesmith-backend"] == "onnx-int8"
    # Without the ONNX files the same weights load in PyTorch (pinned: a new cache entry).
    (job_dir / "model.onnx").unlink()
    (job_dir / "model.int8.onnx").unlink()
    best = sorted(p.name for p in job_dir.glob("best_model_*.pth"))[-1]
    server.client.put(
        "/api/v1/admin/voices/pinned",
        json={"job_id": job_id, "checkpoint": best},
        headers=server.headers,
    )
    share(server, "pinned", "users", ("listener",))
    torch = server.client.post(SPEAK, json={"text": THREE, "job_id": "pinned"}, headers=user)
    assert torch.headers["x-voicesmith-backend"] == "torch"
    assert decoded_seconds(torch.content) == pytest.approx(decoded_seconds(onnx.content), rel=0.05)


def test_aliases_are_voices(server, voice, user):
    put = server.client.put(
        "/api/v1/admin/voices/narrator", json={"job_id": voice}, headers=server.headers
    )
    assert put.json()["alias"] == "narrator"
    # A new alias is private: a plain user neither hears nor sees it until it is shared.
    hidden = server.client.post(SPEAK, json={"text": "Hi.", "job_id": "narrator"}, headers=user)
    assert hidden.status_code == 404 and "does not exist" in hidden.json()["detail"]
    share(server, "narrator", "users", ("listener",))
    listed = server.client.get("/api/v1/voices", headers=user).json()
    entry = next(v for v in listed["voices"] if v["job_id"] == voice)
    assert "narrator" in entry["aliases"] and entry["onnx"] is True and entry["int8"] is False
    spoken = server.client.post(SPEAK, json={"text": "Hi.", "job_id": "narrator"}, headers=user)
    assert spoken.status_code == 200
    assert (
        server.client.delete("/api/v1/admin/voices/narrator", headers=server.headers).status_code
        == 200
    )
    gone = server.client.post(SPEAK, json={"text": "Hi.", "job_id": "narrator"}, headers=user)
    assert gone.status_code == 404


def test_second_request_hits_the_cache(server, voice, user):
    def stats():
        return server.client.get("/api/v1/admin/voices/cache", headers=server.headers).json()

    server.client.post(SPEAK, json={"text": "Warm up.", "job_id": voice}, headers=user)
    before = stats()
    server.client.post(SPEAK, json={"text": "Warm again.", "job_id": voice}, headers=user)
    after = stats()
    assert after["loads"] == before["loads"]
    assert after["hits"] > before["hits"] and after["items"] >= 1


def test_stream_sends_the_first_sentence_before_the_rest(server, voice, user):
    # Warm first: loading the voice would otherwise dwarf the synthesis being measured.
    server.client.post(SPEAK, json={"text": "Warm up number 1.", "job_id": voice}, headers=user)
    text = " ".join(f"This is sentence number {n} of a long paragraph." for n in range(30))
    body = {"text": text, "job_id": voice, "stream": True}
    started = time.perf_counter()
    with server.client.stream("POST", SPEAK, json=body, headers=user) as response:
        chunks = [(time.perf_counter() - started, len(c)) for c in response.iter_raw() if c]
    assert response.headers["content-type"] == "audio/wav"
    assert len(chunks) >= 30
    first_audio = next(t for t, size in chunks if size > 44)
    assert first_audio < chunks[-1][0] * 0.5, chunks


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"text": ""}, 422, "empty"),
        ({"text": "   \n "}, 422, "empty"),
        ({"text": "x" * 5001}, 422, "limit is 5000"),
        ({"text": "?! ... --"}, 422, "no letters"),
        ({"text": "Hi.", "job_id": "nobody_20200101000000"}, 404, "does not exist"),
        ({"text": "Hi.", "format": "aiff"}, 422, "format"),
        ({"text": "Hi.", "speed": 0}, 422, "speed"),
        ({"text": "Hi.", "stream": True, "format": "mp3"}, 422, "streaming supports"),
        ({"text": 5}, 422, "text"),
    ],
)
def test_bad_requests_are_explained(server, voice, user, body, status, needle):
    response = server.client.post(SPEAK, json={"job_id": voice, **body}, headers=user)
    assert response.status_code == status, response.text
    assert needle in response.json()["detail"]


def test_unfinished_job_is_409(server, user):
    job_id = server.start(epochs=1)
    server.post(job_id, "cancel")
    body = {"text": "Hi.", "job_id": job_id}
    response = server.client.post(SPEAK, json=body, headers=server.headers)
    assert response.status_code == 409 and "becomes a voice" in response.json()["detail"]
    # To a plain user it is not shared, so it reads as unknown rather than unfinished.
    assert server.client.post(SPEAK, json=body, headers=user).status_code == 404


def test_unknown_characters_are_dropped_and_reported(server, voice, user):
    response = server.client.post(
        SPEAK, json={"text": "Price: 5€ 😀 today.", "job_id": voice}, headers=user
    )
    assert response.status_code == 200
    dropped = response.headers["x-voicesmith-dropped-characters"]
    assert "U+20AC" in dropped and "U+1F600" in dropped


def test_anonymous_callers_are_refused(server, voice):
    response = server.client.post(SPEAK, json={"text": "Hi.", "job_id": voice})
    assert response.status_code == 401


def test_official_openai_client(server, voice, user):
    token = user["Authorization"].split()[1]
    client = openai.OpenAI(base_url=f"{server.client.base_url}/v1", api_key=token)
    audio = client.audio.speech.create(
        model="tts-1", voice=voice, input=THREE, response_format="wav"
    )
    assert decoded_seconds(audio.content) > 0.5
    by_model = client.audio.speech.create(
        model=voice, voice="alloy", input="Hi.", response_format="mp3"
    )
    assert decoded_seconds(by_model.content) > 0.1
    with pytest.raises(openai.NotFoundError) as missing:
        client.audio.speech.create(model="tts-1", voice="nobody", input="Hi.")
    assert "does not exist" in missing.value.body["message"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{server.client.base_url}/v1", api_key="wrong").audio.speech.create(
            model="tts-1", voice=voice, input="Hi."
        )


def test_base_voice_speaks_through_synthesize(tmp_path, tiny_job):
    env = {**os.environ, "VOICESMITH_DEFAULT_BASE_MODEL": str(tiny_job["dir"])}
    proc, base = start_server(tmp_path / "var", env)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            headers = login(client, "admin", "test-admin-password")
            response = client.post("/api/v1/synthesize", json={"text": THREE}, headers=headers)
    finally:
        stop_server(proc)
    assert response.status_code == 200, response.text
    assert decoded_seconds(response.content) > 0.5


def test_cli_synth_writes_a_file(server, voice, tmp_path):
    out = tmp_path / "hello.flac"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicesmith",
            "synth",
            "--voice",
            voice,
            "Hello from the command line.",
            "-o",
            str(out),
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert decoded_seconds(out.read_bytes()) > 0.3 and "wrote" in done.stdout


def test_readme_openai_example_runs(server, voice, user, tmp_path):
    code = readme_block("openai-example", "python", doc="docs/API.md")
    env = {
        **os.environ,
        "VS": str(server.client.base_url).rstrip("/"),
        "TOKEN": user["Authorization"].split()[1],
        "VOICE": voice,
    }
    done = run_snippet([sys.executable, "-c", code], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert decoded_seconds((tmp_path / "hello_openai.wav").read_bytes()) > 0.3
