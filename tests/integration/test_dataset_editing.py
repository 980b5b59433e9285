"""Looking at and editing a dataset: pages, audio, transcripts, deletions."""

import wave
from io import BytesIO

import pytest

from tests.conftest import upload_clips
from tests.factories import fixture_clips

BASE = "/api/v1/admin/training/datasets"


@pytest.fixture
def lj(client, admin_headers):
    """A dataset `lj` holding the 8 fixture clips."""
    upload_clips(client, admin_headers, fixture_clips(), "lj")
    return client


def metadata_lines(settings) -> list[str]:
    return (settings.datasets_dir / "lj" / "metadata.csv").read_text().splitlines()


def test_clips_come_in_pages(lj, admin_headers):
    page = lj.get(f"{BASE}/lj", params={"offset": 2, "limit": 3}, headers=admin_headers).json()
    assert page["audio_count"] == 8 and [c["file"] for c in page["clips"]] == [
        "LJ001-0003.wav",
        "LJ001-0004.wav",
        "LJ001-0005.wav",
    ]
    assert page["clips"][0]["original_format"] == "mp3"
    assert page["clips"][0]["duration_seconds"] > 1


def test_clip_audio_is_the_stored_wav(lj, admin_headers):
    response = lj.get(f"{BASE}/lj/clips/LJ001-0002.wav/audio", headers=admin_headers)
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(BytesIO(response.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (22050, 1)


def test_patch_transcript_rewrites_metadata(lj, admin_headers, settings):
    response = lj.patch(
        f"{BASE}/lj/clips/LJ001-0002.wav", json={"transcript": "Corrected."}, headers=admin_headers
    )
    assert response.json()["transcript"] == "Corrected."
    assert "LJ001-0002.wav|Corrected." in metadata_lines(settings)
    bad = lj.patch(
        f"{BASE}/lj/clips/LJ001-0002.wav", json={"transcript": "a|b"}, headers=admin_headers
    )
    assert bad.status_code == 422 and "'|'" in bad.json()["detail"]
    assert "LJ001-0002.wav|Corrected." in metadata_lines(settings)


def test_delete_clip_removes_row_file_and_line(lj, admin_headers, settings):
    assert lj.delete(f"{BASE}/lj/clips/LJ001-0003.wav", headers=admin_headers).status_code == 200
    assert not (settings.datasets_dir / "lj" / "wavs" / "LJ001-0003.wav").exists()
    assert len(metadata_lines(settings)) == 7
    assert all(not line.startswith("LJ001-0003") for line in metadata_lines(settings))
    again = lj.delete(f"{BASE}/lj/clips/LJ001-0003.wav", headers=admin_headers)
    assert again.status_code == 404 and "not in dataset" in again.json()["detail"]


def test_dataset_in_use_cannot_be_deleted(client, admin_headers, settings, speech_clips):
    upload_clips(client, admin_headers, speech_clips, "busy")
    start = client.post(
        "/api/v1/admin/training/start",
        json={"dataset_name": "busy", "base_model": "scratch:tiny"},
        headers=admin_headers,
    )
    refused = client.delete(f"{BASE}/busy", headers=admin_headers)
    assert refused.status_code == 409 and "cancel it first" in refused.json()["detail"]
    client.post(
        f"/api/v1/admin/training/jobs/{start.json()['job_id']}/cancel", headers=admin_headers
    )
    assert client.delete(f"{BASE}/busy", headers=admin_headers).status_code == 200
    assert not (settings.datasets_dir / "busy").exists()
    names = [d["name"] for d in client.get(BASE, headers=admin_headers).json()["datasets"]]
    assert "busy" not in names


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/lj/clips/none.wav/audio"),
        ("PATCH", "/lj/clips/none.wav"),
        ("DELETE", "/lj/clips/none.wav"),
        ("DELETE", "/nope"),
    ],
)
def test_unknown_names_are_404(lj, admin_headers, method, path):
    response = lj.request(method, f"{BASE}{path}", json={"transcript": "x"}, headers=admin_headers)
    assert response.status_code == 404 and "detail" in response.json()
