"""The seed's upload: real files in every common format, bad input, and the LJSpeech layout."""

import wave
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import ADMIN_PASSWORD, login
from tests.factories import fixture_clips, source_seconds, write_tone
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.datasets.models import Clip

UPLOAD = "/api/v1/admin/training/upload"


def upload(
    client,
    headers,
    *,
    path=None,
    content=None,
    filename=None,
    dataset="voice",
    transcript="Hello there.",
):
    """POST one clip the way the seed's form does."""
    body = content if content is not None else path.read_bytes()
    files = {"audio": (filename or (path.name if path else "clip.wav"), body)}
    data = {"dataset_name": dataset, "transcript": transcript}
    return client.post(UPLOAD, data=data, files=files, headers=headers)


def clip_count(client: TestClient) -> int:
    """Clip rows in the app's database."""
    with client.app.state.sessionmaker() as session:
        return session.scalar(select(func.count(Clip.id)))


def assert_nothing_stored(client: TestClient, settings: Settings) -> None:
    """No row, no WAV, no metadata line and no leftover temporary file."""
    assert clip_count(client) == 0
    assert list(settings.datasets_dir.rglob("*.wav")) == []
    for metadata in settings.datasets_dir.rglob("metadata.csv"):
        assert metadata.read_text() == ""
    tmp = settings.data_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []


FORMATS = [
    pytest.param("clip.mp3", dict(codec="libmp3lame", rate=44100, channels=2), id="mp3"),
    pytest.param("clip.m4a", dict(codec="aac", rate=44100, channels=2), id="m4a-aac"),
    pytest.param("clip.wav", dict(codec="pcm_s24le", rate=48000, channels=2), id="wav-48k-24bit"),
    pytest.param("clip.wav", dict(codec="pcm_u8", rate=8000, channels=1), id="wav-8bit"),
    pytest.param("clip.wav", dict(codec="pcm_s32le", rate=44100, channels=1), id="wav-32bit"),
    pytest.param("clip.wav", dict(codec="pcm_f32le", rate=44100, channels=2), id="wav-float"),
    pytest.param("clip.flac", dict(codec="flac", rate=96000, channels=2), id="flac-96k"),
    pytest.param("clip.ogg", dict(codec="libopus", rate=48000, channels=2), id="ogg-opus"),
]


@pytest.mark.parametrize(("name", "spec"), FORMATS)
def test_every_format_becomes_22050_mono_pcm16(
    client, admin_headers, settings, tmp_path, name, spec
):
    source = write_tone(tmp_path / name, seconds=3.0, **spec)
    response = upload(client, admin_headers, path=source)
    assert response.status_code == 200, response.text
    body = response.json()
    wav_path = settings.datasets_dir / "voice" / "wavs" / body["wav_filename"]
    with wave.open(str(wav_path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2)
        converted = wav.getnframes() / 22050
    assert converted == pytest.approx(source_seconds(source), rel=0.01)
    with client.app.state.sessionmaker() as session:
        clip = session.scalar(select(Clip))
    assert (clip.original_sample_rate, clip.original_channels) == (spec["rate"], spec["channels"])
    assert clip.duration_seconds == pytest.approx(converted)


def test_24bit_source_really_is_24bit(tmp_path):
    source = write_tone(tmp_path / "c.wav", codec="pcm_s24le", rate=48000, channels=2)
    with av.open(str(source)) as container:
        ctx = container.streams.audio[0].codec_context
        assert (ctx.name, ctx.sample_rate, ctx.channels) == ("pcm_s24le", 48000, 2)


def test_seed_fixtures_make_an_ljspeech_dataset(client, admin_headers, settings):
    clips = fixture_clips()
    for path, transcript in clips:
        response = upload(client, admin_headers, path=path, dataset="lj", transcript=transcript)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "stored"
        assert (
            Path(response.json()["metadata_path"])
            == (settings.datasets_dir / "lj" / "metadata.csv").resolve()
        )
    lines = (settings.datasets_dir / "lj" / "metadata.csv").read_text().splitlines()
    assert lines == [f"{p.stem}.wav|{t}" for p, t in clips]
    listing = client.get("/api/v1/admin/training/datasets", headers=admin_headers).json()
    assert listing["status"] == "ok"
    [dataset] = listing["datasets"]
    assert (dataset["name"], dataset["audio_count"]) == ("lj", 8)
    assert dataset["created_at"] and dataset["total_seconds"] > 40


def test_same_filename_twice_gets_a_new_name(client, admin_headers, tmp_path):
    source = write_tone(tmp_path / "take.wav", seconds=1.0)
    names = [upload(client, admin_headers, path=source).json()["wav_filename"] for _ in range(2)]
    assert names == ["take.wav", "take_2.wav"]


def test_hostile_filename_is_sanitised(client, admin_headers, settings, tmp_path):
    source = write_tone(tmp_path / "a.wav", seconds=1.0)
    response = upload(
        client, admin_headers, content=source.read_bytes(), filename="../../etc/pa ss;wd.wav"
    )
    assert response.json()["wav_filename"] == "pa_ss_wd.wav"
    assert (settings.datasets_dir / "voice" / "wavs" / "pa_ss_wd.wav").exists()


# An empty transcript is not bad: the clip is stored for ASR (see test_transcripts.py).
BAD_TRANSCRIPTS = [
    pytest.param("left|right", "'|'", id="pipe"),
    pytest.param("two\nlines", "single line", id="newline"),
    pytest.param("two\r\nlines", "single line", id="crlf"),
    pytest.param("ring \x07 bell", "control character", id="control"),
    pytest.param("x" * 501, "limit is 500", id="too-long"),
]


@pytest.mark.parametrize(("transcript", "needle"), BAD_TRANSCRIPTS)
def test_bad_transcript_is_refused(client, admin_headers, settings, tmp_path, transcript, needle):
    source = write_tone(tmp_path / "c.wav", seconds=1.0)
    response = upload(client, admin_headers, path=source, transcript=transcript)
    assert response.status_code == 422
    assert needle in response.json()["detail"]
    assert_nothing_stored(client, settings)


@pytest.mark.parametrize("name", ["../x", "a/b", "", "ünïcode", "x" * 65, "a b", "..", "x\n"])
def test_bad_dataset_name_is_refused(client, admin_headers, settings, tmp_path, name):
    source = write_tone(tmp_path / "c.wav", seconds=1.0)
    response = upload(client, admin_headers, path=source, dataset=name)
    assert response.status_code == 422
    assert "letters, digits" in response.json()["detail"]
    assert_nothing_stored(client, settings)
    assert not (settings.data_dir / "x").exists()


def _bad_audio(tmp_path: Path) -> list[tuple[str, bytes, str]]:
    """(filename, content, expected words in detail) for undecodable or unusable audio."""
    tone = write_tone(tmp_path / "t.mp3", codec="libmp3lame", seconds=2.0).read_bytes()
    return [
        ("garbage.wav", bytes(range(256)) * 64, "decode"),
        ("notes.mp3", b"These are my meeting notes, not audio.\n" * 50, "audio"),
        ("empty.wav", b"", "empty"),
        ("short.wav", write_tone(tmp_path / "s.wav", seconds=0.2).read_bytes(), "at least 0.5"),
        (
            "long.flac",
            write_tone(tmp_path / "l.flac", codec="flac", seconds=61).read_bytes(),
            "split",
        ),
        ("truncated.mp3", tone[:200], "decode"),
    ]


def test_bad_audio_is_refused(client, admin_headers, settings, tmp_path):
    for filename, content, needle in _bad_audio(tmp_path):
        response = upload(client, admin_headers, content=content, filename=filename)
        assert response.status_code == 422, (filename, response.text)
        assert needle in response.json()["detail"], filename
        assert_nothing_stored(client, settings)


def test_wrong_extension_still_decodes(client, admin_headers, tmp_path):
    source = write_tone(tmp_path / "real.mp3", codec="libmp3lame", seconds=1.0)
    response = upload(client, admin_headers, content=source.read_bytes(), filename="fake.wav")
    assert response.status_code == 200, response.text


def test_oversized_audio_part_gets_413(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", admin_password=ADMIN_PASSWORD, max_upload_mb=0.1)
    source = write_tone(tmp_path / "big.wav", seconds=3.0)  # about 260 KB
    with TestClient(create_app(settings)) as client:
        response = upload(client, login(client, "admin", ADMIN_PASSWORD), path=source)
        assert response.status_code == 413
        assert "limit is 0.1 MB" in response.json()["detail"]
        assert_nothing_stored(client, settings)


def test_max_clip_length_is_configurable(tmp_path):
    settings = Settings(
        data_dir=tmp_path / "var", admin_password=ADMIN_PASSWORD, max_clip_seconds=2
    )
    source = write_tone(tmp_path / "c.wav", seconds=3.0)
    with TestClient(create_app(settings)) as client:
        response = upload(client, login(client, "admin", ADMIN_PASSWORD), path=source)
    assert response.status_code == 422
    assert "longer than 2 s" in response.json()["detail"]
