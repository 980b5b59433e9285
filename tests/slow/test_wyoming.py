"""The Wyoming server against the wyoming package's own client, with the session's tiny voice."""

import asyncio
import io
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeVoice,
)

from tests.conftest import ADMIN_PASSWORD, stop_server
from tests.integration.test_web_session import web_login
from tests.wyoming import TIMEOUT, exchange, pcm_of, read_until, run_async, start_wyoming

pytestmark = pytest.mark.slow
JOB_ID = "wyoming-voice"
SENTENCES = ["The kettle is on.", "Dinner is at seven tonight.", "Please close the garage door."]
TEXT = " ".join(SENTENCES)


@pytest.fixture(scope="module")
def http(server, tiny_job: dict) -> tuple[httpx.Client, dict, Path, str]:
    """The tiny voice aliased `home` (published), `private`, and `unshared` (published, private)."""
    job_id = tiny_job["job"]["job_id"]
    for alias, published in (("home", True), ("private", False), ("unshared", True)):
        body = {"job_id": job_id, "wyoming": published}
        response = server.client.put(
            f"/api/v1/admin/voices/{alias}", json=body, headers=server.headers
        )
        assert response.status_code == 200 and response.json()["wyoming"] is published
    # Wyoming has no users, so it serves only published voices shared with everyone.
    for alias in ("home", "private"):
        url = f"/api/v1/admin/voices/{alias}/sharing"
        shared = server.client.put(url, json={"mode": "everyone"}, headers=server.headers)
        assert shared.status_code == 200, shared.text
    return server.client, server.headers, server.data_dir, job_id


@pytest.fixture(scope="module")
def port(http: tuple[httpx.Client, dict, Path, str]) -> Iterator[int]:
    """A live `voicesmith wyoming` on 127.0.0.1 over the same data dir."""
    proc, port = start_wyoming(http[2])
    yield port
    stop_server(proc)


def synthesize(text: str, voice: str | None = "home") -> Synthesize:
    """A synthesize event naming voice."""
    return Synthesize(text=text, voice=SynthesizeVoice(name=voice) if voice else None)


def test_describe_lists_exactly_the_published_voices(port: int, http) -> None:
    [event] = run_async(exchange(port, Describe().event(), until=("info",)))
    [program] = Info.from_event(event).tts
    assert program.supports_synthesize_streaming
    assert [(v.name, v.languages) for v in program.voices] == [("home", ["en"])]
    assert http[3] in program.voices[0].description


def test_synthesize_matches_the_http_length(port: int, http) -> None:
    client, headers, _, _ = http
    events = run_async(exchange(port, synthesize(TEXT).event(), until=("audio-stop", "error")))
    assert [e.type for e in events][0] == "audio-start" and events[-1].type == "audio-stop"
    assert events[0].data["rate"] == 22050 and events[0].data["width"] == 2
    assert events[0].data["channels"] == 1
    body = {"job_id": "home", "text": TEXT, "format": "wav"}
    response = client.post("/api/v1/synthesize-trained", json=body, headers=headers)
    assert response.status_code == 200, response.text
    # The same ONNX path as HTTP (int8 where the job kept its int8 copy).
    assert response.headers["X-Voicesmith-Backend"].startswith("onnx")
    with wave.open(io.BytesIO(response.content)) as wav:
        http_samples = wav.getnframes()
    wyoming_samples = len(pcm_of(events)) // 2
    assert abs(wyoming_samples - http_samples) <= 0.05 * http_samples, (
        wyoming_samples,
        http_samples,
    )


async def _stream_first_sentence_first(port: int) -> list[str]:
    """Stream three sentences; the last is sent only after the first audio arrived."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name="home")).event())
        await client.write_event(SynthesizeChunk(text=f"{SENTENCES[0]} {SENTENCES[1]} ").event())
        early = await read_until(client, ("audio-chunk", "error"))
        await client.write_event(SynthesizeChunk(text=SENTENCES[2]).event())
        await client.write_event(SynthesizeStop().event())
        rest = await read_until(client, ("synthesize-stopped", "error"))
    return [e.type for e in early + rest]


def test_streaming_sends_audio_before_the_last_sentence(port: int) -> None:
    types = run_async(asyncio.wait_for(_stream_first_sentence_first(port), TIMEOUT))
    assert types[:2] == ["audio-start", "audio-chunk"]
    assert types[-2:] == ["audio-stop", "synthesize-stopped"] and types.count("audio-start") == 1


@pytest.mark.parametrize("voice", ["private", "unshared", "nope", "JOB_ID"])
def test_an_unpublished_voice_is_an_error_not_another_voice(port: int, http, voice: str) -> None:
    voice = http[3] if voice == "JOB_ID" else voice  # a job id is not a published name
    [event] = run_async(exchange(port, synthesize("Hello.", voice).event(), until=("error",)))
    assert "not published" in event.data["text"]


def test_text_over_the_limit_is_an_error(port: int) -> None:
    [event] = run_async(exchange(port, synthesize("a" * 5001).event(), until=("error",)))
    assert "limit" in event.data["text"]


async def _leave_mid_stream(port: int) -> None:
    """Ask for a long text and hang up at its first chunk."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(synthesize(" ".join(SENTENCES * 6)).event())
        await read_until(client, ("audio-chunk",))


def test_a_client_leaving_mid_stream_leaves_the_server_serving(port: int) -> None:
    run_async(_leave_mid_stream(port))
    events = run_async(exchange(port, synthesize("Still here.").event(), until=("audio-stop",)))
    assert pcm_of(events)


def test_the_voices_tab_publishes_and_unpublishes(port: int, http) -> None:
    client, _, _, _ = http
    headers = {"X-CSRF-Token": web_login(client, "admin", ADMIN_PASSWORD)}
    page = client.get("/admin/voices").text
    assert "Home Assistant (Wyoming)" in page and "tcp://127.0.0.1:10200" in page
    # `home` and `unshared` are published; `unshared` is not heard, being private.
    assert page.count('data-wyoming="published"') == 2
    url = "/admin/voices/aliases/private/wyoming"
    panel = client.post(url, data={"publish": "true"}, headers=headers)
    assert panel.status_code == 200 and panel.text.count('data-wyoming="published"') == 3
    [event] = run_async(exchange(port, Describe().event(), until=("info",)))
    assert [v.name for v in Info.from_event(event).tts[0].voices] == ["home", "private"]
    panel = client.post(url, data={"publish": "false"}, headers=headers)
    assert panel.text.count('data-wyoming="published"') == 2
