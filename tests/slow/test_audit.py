"""The audit trail of a mixed session: one row per synthesis on every route that speaks, with
who, the voice and checkpoint, the text's length and hash, and no text unless asked for."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from wyoming.tts import Synthesize, SynthesizeVoice

from tests.conftest import USER_PASSWORD, stop_server
from tests.slow.conftest import Api
from tests.slow.test_sharing import SPEAK, Caller, route_table
from tests.wyoming import exchange, pcm_of, run_async, start_wyoming
from voicesmith.auth.audit import WYOMING, text_hash

pytestmark = pytest.mark.slow
VOICE = "audit-voice"
USER = "au-user"
AUDIT = "/api/v1/admin/audit"


@pytest.fixture(scope="module")
def voice(server: Api, tiny_job: dict) -> Iterator[str]:
    """The tiny voice as an alias of its own, shared with everyone and published on Wyoming."""
    job_id = tiny_job["job"]["job_id"]
    body = {"job_id": job_id, "wyoming": True}
    put = server.client.put(f"/api/v1/admin/voices/{VOICE}", json=body, headers=server.headers)
    assert put.status_code == 200, put.text
    url = f"/api/v1/admin/voices/{VOICE}/sharing"
    shared = server.client.put(url, json={"mode": "everyone"}, headers=server.headers)
    assert shared.status_code == 200, shared.text
    user = {"username": USER, "password": USER_PASSWORD, "role": "user"}
    server.client.post("/api/v1/admin/users", json=user, headers=server.headers)
    yield job_id
    server.client.delete(f"/api/v1/admin/voices/{VOICE}", headers=server.headers)


def _trained(caller: Caller, text: str) -> httpx.Response:
    return caller.http.post("/api/v1/synthesize-trained", json={"text": text, "job_id": VOICE})


def _trained_streamed(caller: Caller, text: str) -> httpx.Response:
    body = {"text": text, "job_id": VOICE, "stream": True}
    return caller.http.post("/api/v1/synthesize-trained", json=body)


def _openai(caller: Caller, text: str) -> httpx.Response:
    body = {"input": text, "voice": VOICE, "response_format": "mp3"}
    return caller.http.post("/v1/audio/speech", json=body)


def _playground(caller: Caller, text: str) -> httpx.Response:
    data = {"voice": VOICE, "text": text}
    return caller.http.post("/playground/speak", data=data, headers={"X-CSRF-Token": caller.csrf})


# (route as the audit names it, how to call it, its text): each spoken once, by the plain user.
CALLS: list[tuple[str, Callable[[Caller, str], httpx.Response], str]] = [
    ("POST /api/v1/synthesize-trained", _trained, "The first audited sentence."),
    ("POST /api/v1/synthesize-trained", _trained_streamed, "A streamed one. In two parts."),
    ("POST /v1/audio/speech", _openai, "Spoken through the OpenAI route."),
    ("POST /playground/speak", _playground, "Spoken in the playground."),
]
WYOMING_TEXT = "Spoken for Home Assistant."


def _speak_on_wyoming(data_dir, text: str) -> bytes:
    """Text spoken by a live `voicesmith wyoming` over the server's data dir."""
    proc, port = start_wyoming(data_dir)
    try:
        event = Synthesize(text=text, voice=SynthesizeVoice(name=VOICE)).event()
        events = run_async(exchange(port, event, until=("audio-stop", "error")))
    finally:
        stop_server(proc)
    assert events[-1].type == "audio-stop", events
    return pcm_of(events)


def _rows(server: Api, since: datetime) -> list[dict]:
    """The syntheses of VOICE since a moment, oldest first."""
    params = {"voice": VOICE, "action": "synthesis", "since": since.isoformat(), "limit": 1000}
    answer = server.client.get(AUDIT, params=params, headers=server.headers)
    assert answer.status_code == 200, answer.text
    return list(reversed(answer.json()["items"]))


def test_every_speaking_route_is_audited_here(tmp_path):
    speaking, _ = route_table(tmp_path)
    named = {tuple(route.split(" ", 1)) for route, _, _ in CALLS}
    # The base voice's route speaks no trained voice; its audit is the same code (speak).
    assert speaking == set(SPEAK) and named | {("POST", "/api/v1/synthesize")} == speaking


def test_one_row_per_synthesis_across_all_routes_and_no_text(server: Api, voice: str):
    since = datetime.now(UTC)
    user = Caller(str(server.client.base_url), USER, USER_PASSWORD)
    sizes = []
    for route, call, text in CALLS:
        answer = call(user, text)
        assert answer.status_code == 200, (route, answer.text)
        sizes.append(len(answer.content))
    refused = _trained(user, "")  # bad input speaks nothing, so nothing is audited
    assert refused.status_code == 422
    sizes.append(len(_speak_on_wyoming(server.data_dir, WYOMING_TEXT)))
    rows = _rows(server, since)
    expected = [(route, USER, text) for route, _, text in CALLS] + [(WYOMING, None, WYOMING_TEXT)]
    assert [(r["route"], r["actor"]) for r in rows] == [(r, a) for r, a, _ in expected]
    for row, (route, _, text) in zip(rows, expected, strict=True):
        assert row["text"] is None, route  # VOICESMITH_AUDIT_TEXT is off by default
        assert row["text_sha256"] == text_hash(text) and row["text_length"] == len(text)
        assert row["job_id"] == voice and row["checkpoint"].startswith("best_model.pth")
        assert row["audio_seconds"] > 0.1, (route, row)
    # The audio's length as sent: 16-bit samples at 22050 Hz after a 44-byte WAV header.
    pcm = [size - 44 for size in sizes[:2]] + [sizes[3] - 44, sizes[4]]
    seconds = [r["audio_seconds"] for i, r in enumerate(rows) if i != 2]
    assert seconds == pytest.approx([n / 2 / 22050 for n in pcm], abs=0.002)
    assert [r["detail"]["stream"] for r in rows] == [False, True, False, False, True]
    assert [r["detail"]["format"] for r in rows] == ["wav", "wav", "mp3", "wav", "pcm"]


def test_the_text_is_kept_when_the_setting_says_so(
    server: Api, voice: str, monkeypatch: pytest.MonkeyPatch
):
    since = datetime.now(UTC)
    monkeypatch.setenv("VOICESMITH_AUDIT_TEXT", "true")
    _speak_on_wyoming(server.data_dir, "Keep these words.")
    [row] = _rows(server, since)
    assert row["text"] == "Keep these words." and row["route"] == WYOMING
