"""Long recordings: split at pauses into transcribed clips, with or without the user's text."""

import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, SENTENCES, login
from tests.factories import read_pcm, speak, write_pcm, write_tone
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.core.text import cer

API = "/api/v1/admin/training"
MORE = [
    "Music fills the quiet morning garden.",
    "Letters arrived at the station late.",
    "The river runs past the old mill.",
    "Open the window and let the air in.",
    "We walked home under a bright moon.",
    "Bread and butter make a simple meal.",
    "Birds sing loudly before the storm.",
    "He painted the fence a pale blue.",
]
LONG_TEXT = SENTENCES + MORE


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    """About 90 s of espeak-ng sentences with pauses of 1.6 to 3 s between them."""
    folder = tmp_path_factory.mktemp("long")
    parts, rate = [], 22050
    for n, sentence in enumerate(LONG_TEXT):
        samples, rate = read_pcm(speak(sentence, folder / f"sentence_{n:02d}.wav"))
        parts += [samples, np.zeros(int(rate * (1.6 + (n % 4) * 0.45)))]
    return write_pcm(folder / "reading.wav", np.concatenate(parts), rate)


@pytest.fixture
def app_client(settings: Settings):
    with TestClient(create_app(settings, embedded_worker=True)) as client:
        yield client, login(client, "admin", ADMIN_PASSWORD)


def import_long(client, headers, path: Path, dataset: str, transcript: str = "") -> dict:
    """Upload a long recording and wait for its import to end."""
    response = client.post(
        f"{API}/upload-long",
        data={"dataset_name": dataset, "transcript": transcript},
        files={"audio": (path.name, path.read_bytes())},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    url = response.json()["progress_url"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        row = client.get(url, headers=headers).json()
        if row["status"] in ("completed", "failed"):
            return row
        time.sleep(0.3)
    raise AssertionError(f"long import did not end: {row}")


def test_a_recording_is_split_at_pauses_and_transcribed(app_client, recording, settings):
    client, headers = app_client
    row = import_long(client, headers, recording, "reading")
    assert row["status"] == "completed" and row["percent"] == 100, row
    assert 85 <= row["duration_seconds"] <= 100
    clips = client.get(f"{API}/datasets/reading", headers=headers).json()["clips"]
    assert len(clips) == row["clips"] >= 6
    assert all(c["duration_seconds"] <= 15 and c["status"] == "ready" for c in clips)
    assert all(c["transcript_source"] == "asr" and c["transcript"] for c in clips)
    heard = " ".join(c["transcript"] for c in clips)
    assert cer(" ".join(LONG_TEXT), heard) < 0.25
    lines = (settings.datasets_dir / "reading" / "metadata.csv").read_text().splitlines()
    assert len(lines) == len(clips)


def test_a_given_transcript_is_reproduced_exactly(app_client, recording):
    client, headers = app_client
    full = "\n".join(LONG_TEXT)  # line breaks in the user's text are fine
    row = import_long(client, headers, recording, "given", transcript=full)
    assert row["status"] == "completed", row
    clips = client.get(f"{API}/datasets/given", headers=headers).json()["clips"]
    assert all(c["duration_seconds"] <= 15 and c["transcript_source"] == "user" for c in clips)
    assert " ".join(c["transcript"] for c in clips) == " ".join(LONG_TEXT)
    # Cut at pauses, so each clip holds whole sentences of the user's text.
    assert all(c["transcript"].endswith(".") for c in clips)
    assert all(c["cer"] < 0.35 for c in clips), [(c["transcript"], c["asr_text"]) for c in clips]


def test_bad_long_recordings_get_a_4xx(app_client, tmp_path, data_dir):
    client, headers = app_client
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    response = client.post(
        f"{API}/upload-long",
        data={"dataset_name": "bad"},
        files={"audio": (junk.name, junk.read_bytes())},
        headers=headers,
    )
    assert response.status_code == 422 and "decode" in response.json()["detail"]
    assert client.get(f"{API}/long-imports/999", headers=headers).status_code == 404
    assert not list((data_dir / "tmp").glob("long-*"))


def test_too_long_and_silent_recordings(data_dir, tmp_path):
    settings = Settings(data_dir=data_dir, admin_password=ADMIN_PASSWORD, max_long_seconds=10)
    tone = write_tone(tmp_path / "tone.wav", seconds=12)
    quiet = write_pcm(tmp_path / "quiet.wav", np.zeros(22050 * 8), 22050)
    with TestClient(create_app(settings, embedded_worker=True)) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        files = {"audio": (tone.name, tone.read_bytes())}
        response = client.post(
            f"{API}/upload-long", data={"dataset_name": "x"}, files=files, headers=headers
        )
        assert response.status_code == 422 and "limit is 10 s" in response.text
        assert "VOICESMITH_MAX_LONG_SECONDS" in response.json()["detail"]
        row = import_long(client, headers, quiet, "x")
    assert row["status"] == "failed" and row["detail"] == "no speech found"
