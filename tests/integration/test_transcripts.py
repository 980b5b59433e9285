"""Transcripts from ASR: clips without one, checks of users' ones, silence, noise, bad models."""

import statistics
import time
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from pydantic import ValidationError

from tests.conftest import ADMIN_PASSWORD, login
from tests.factories import write_pcm
from tests.integration.test_web_session import web_login
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.core.text import cer

API = "/api/v1/admin/training"


@pytest.fixture
def asr_client(settings: Settings) -> Iterator[TestClient]:
    """An app running its embedded workers, so uploads are recognised in the background."""
    with TestClient(create_app(settings, embedded_worker=True)) as client:
        yield client


@pytest.fixture
def asr_headers(asr_client: TestClient) -> dict[str, str]:
    return login(asr_client, "admin", ADMIN_PASSWORD)


def upload(client, headers, path, transcript: str, dataset: str = "asr") -> dict:
    response = client.post(
        f"{API}/upload",
        data={"dataset_name": dataset, "transcript": transcript},
        files={"audio": (path.name, path.read_bytes())},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def recognised(client, headers, dataset: str = "asr", timeout: float = 120) -> list[dict]:
    """The dataset's clips once none waits for ASR any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        clips = client.get(f"{API}/datasets/{dataset}", headers=headers).json()["clips"]
        waiting = [c for c in clips if c["status"] == "transcribing" or _unchecked(c)]
        if not waiting:
            return clips
        time.sleep(0.2)
    raise AssertionError(f"clips still waiting for ASR: {waiting}")


def _unchecked(clip: dict) -> bool:
    return clip["status"] == "ready" and clip["asr_text"] is None and clip["asr_detail"] is None


def test_clips_without_transcripts_are_transcribed(asr_client, asr_headers, speech_clips, settings):
    clips = speech_clips[:6]
    answers = [upload(asr_client, asr_headers, path, "") for path, _ in clips]
    assert {a["clip_status"] for a in answers} == {"transcribing"}
    stored = recognised(asr_client, asr_headers)
    assert {c["status"] for c in stored} == {"ready"}
    assert {c["transcript_source"] for c in stored} == {"asr"}
    assert all(0 < c["asr_confidence"] <= 1 for c in stored)
    rates = [cer(text, c["transcript"]) for (_, text), c in zip(clips, stored, strict=True)]
    assert statistics.fmean(rates) < 0.25, rates
    lines = (settings.datasets_dir / "asr" / "metadata.csv").read_text().splitlines()
    assert len(lines) == 6
    listed = asr_client.get(f"{API}/datasets", headers=asr_headers).json()["datasets"][0]
    assert listed["pending_clips"] == 0 and listed["audio_count"] == 6


def test_bulk_import_transcribes_clips_missing_from_metadata(asr_client, asr_headers, speech_clips):
    clips = speech_clips[:4]
    metadata = "".join(f"{p.name}|{t}\n" for p, t in clips[:2]).encode()
    files = [("audio", (p.name, p.read_bytes())) for p, _ in clips]
    files.append(("metadata", ("metadata.csv", metadata)))
    body = asr_client.post(
        f"{API}/upload-batch", data={"dataset_name": "asr"}, files=files, headers=asr_headers
    ).json()
    assert body["stored"] == 4 and body["pending"] == 2 and body["rejected"] == [], body
    stored = recognised(asr_client, asr_headers)
    sources = [c["transcript_source"] for c in stored]
    assert sources == ["user", "user", "asr", "asr"]
    assert all(c["cer"] is not None and c["cer"] < 0.35 for c in stored)


def test_a_swapped_pair_is_flagged_and_training_warns(
    asr_client, asr_headers, speech_clips, settings
):
    clips = list(speech_clips[:6])
    texts = [t for _, t in clips]
    texts[0], texts[1] = texts[1], texts[0]
    for (path, _), text in zip(clips, texts, strict=True):
        upload(asr_client, asr_headers, path, text)
    recognised(asr_client, asr_headers)
    report = asr_client.get(f"{API}/datasets/asr/report", headers=asr_headers).json()
    flagged = [c["file"] for c in report["clips"] if "transcript_mismatch" in c["flags"]]
    names = [c["file"] for c in report["clips"]]
    assert flagged == names[:2], report["clips"]
    first = report["clips"][0]
    assert first["transcript"] == texts[0] and cer(speech_clips[0][1], first["asr_text"]) < 0.35
    accepted = asr_client.post(
        f"{API}/datasets/asr/clips/{names[0]}/accept-asr", headers=asr_headers
    ).json()
    assert accepted["transcript"] == first["asr_text"] and accepted["transcript_source"] == "asr"
    report = asr_client.get(f"{API}/datasets/asr/report", headers=asr_headers).json()
    assert [c["file"] for c in report["clips"] if c["flags"].count("transcript_mismatch")] == [
        names[1]
    ]
    _start_warns_about(settings, names[1])
    _review_offers_what_asr_heard(asr_client, asr_headers, names[1], names[2:])


def _review_offers_what_asr_heard(
    client: TestClient, headers: dict[str, str], clip: str, good: list[str]
) -> None:
    """The web Review view lists the flagged clip with both texts; Accept ASR fixes it."""
    clips = client.get(f"{API}/datasets/asr", headers=headers).json()["clips"]
    row = next(c for c in clips if c["file"] == clip)
    csrf = web_login(client, "admin", ADMIN_PASSWORD)
    page = client.get("/admin/datasets/asr/review").text
    assert clip in page and not any(name in page for name in good)
    assert str(escape(row["asr_text"])) in page and str(escape(row["transcript"])) in page
    accepted = client.post(
        f"/admin/datasets/asr/clips/{clip}/accept-asr", headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200 and "badge-asr" in accepted.text
    assert "Nothing to review" in client.get("/admin/datasets/asr/review").text


def _start_warns_about(settings: Settings, clip: str) -> None:
    """Starting training is allowed; the answer and the job's log name the mismatched clip."""
    few = settings.model_copy(update={"min_training_clips": 3})
    with TestClient(create_app(few)) as client:  # no worker: the job stays pending
        headers = login(client, "admin", ADMIN_PASSWORD)
        body = {"dataset_name": "asr", "epochs": 1, "base_model": "scratch:tiny"}
        started = client.post(f"{API}/start", json=body, headers=headers)
        assert started.status_code == 200, started.text
        assert any(clip in w for w in started.json()["warnings"])
        log = client.get(f"{API}/jobs/{started.json()['job_id']}/log", headers=headers).text
        assert "WARNING" in log and clip in log


def test_silence_and_noise_fail_with_no_speech_found(data_dir, tmp_path):
    # Untrimmed and not amplified, a quiet room reaches ASR as it was recorded.
    settings = Settings(
        data_dir=data_dir,
        admin_password=ADMIN_PASSWORD,
        trim_silence=False,
        normalize_loudness=False,
    )
    room = np.random.default_rng(3).normal(0, 0.0001, 22050 * 2)
    silence = write_pcm(tmp_path / "silence.wav", room, 22050)
    noise = np.random.default_rng(7).normal(0, 0.2, 22050 * 3)
    noisy = write_pcm(tmp_path / "noise.wav", noise, 22050)
    with TestClient(create_app(settings, embedded_worker=True)) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        for path in (silence, noisy):
            upload(client, headers, path, "")
        stored = recognised(client, headers)
        listed = client.get(f"{API}/datasets", headers=headers).json()["datasets"][0]
    assert [(c["status"], c["asr_detail"]) for c in stored] == [("failed", "no speech found")] * 2
    assert listed["pending_clips"] == 0 and listed["failed_clips"] == 2
    assert (data_dir / "data" / "asr" / "metadata.csv").read_text() == ""


def test_a_missing_model_directory_is_refused_at_start(tmp_path):
    with pytest.raises(ValidationError, match="no such model directory"):
        Settings(data_dir=tmp_path, asr_model=str(tmp_path / "nowhere"))


def test_a_broken_model_fails_the_clip_not_the_request(data_dir, tmp_path, speech_clips):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    settings = Settings(data_dir=data_dir, admin_password=ADMIN_PASSWORD, asr_model=str(empty))
    with TestClient(create_app(settings, embedded_worker=True)) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        upload(client, headers, speech_clips[0][0], "")
        upload(client, headers, *speech_clips[1])
        stored = recognised(client, headers)
    assert stored[0]["status"] == "failed" and "model.bin" in stored[0]["asr_detail"]
    assert stored[1]["status"] == "ready" and "model.bin" in stored[1]["asr_detail"]


def test_editing_a_failed_clip_makes_it_ready(asr_client, asr_headers, tmp_path, settings):
    silence = write_pcm(
        tmp_path / "hum.wav", np.random.default_rng(1).normal(0, 0.05, 44100), 22050
    )
    upload(asr_client, asr_headers, silence, "")
    assert recognised(asr_client, asr_headers)[0]["status"] == "failed"
    patched = asr_client.patch(
        f"{API}/datasets/asr/clips/hum.wav", json={"transcript": "Hmm."}, headers=asr_headers
    ).json()
    assert patched["status"] == "ready" and patched["transcript_source"] == "user"
    report = asr_client.get(f"{API}/datasets/asr/report", headers=asr_headers).json()
    assert report["totals"]["failed_clips"] == 0 and report["clips"][0]["transcript"] == "Hmm."
