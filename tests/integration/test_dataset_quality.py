"""Clean-up at ingest, the stored quality report, rebuilds from originals, job snapshots."""

import hashlib
import json
import sqlite3
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from tests.conftest import upload_clips
from tests.factories import read_pcm, speak, write_pcm

BATCH = "/api/v1/admin/training/upload-batch"
DATASETS = "/api/v1/admin/training/datasets"
SHORT = "Yes, of course."
LONG = "The committee will reconvene on Thursday afternoon to discuss the annual budget report."


def batch(client, headers, dataset: str, clips: list[tuple[Path, str]]):
    """Bulk-import clips as multipart files plus a metadata part."""
    metadata = "".join(f"{path.name}|{text}\n" for path, text in clips)
    files = [("audio", (path.name, path.read_bytes())) for path, _ in clips]
    files.append(("metadata", ("metadata.csv", metadata.encode())))
    response = client.post(BATCH, data={"dataset_name": dataset}, files=files, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def padded(source: Path, target: Path, *, seconds: float) -> Path:
    """The same speech with silence before and after it."""
    audio, rate = read_pcm(source)
    pad = np.zeros(int(seconds * rate), dtype=np.float32)
    return write_pcm(target, np.concatenate([pad, audio, pad]), rate)


def scaled(source: Path, target: Path, gain: float) -> Path:
    """The same speech amplified (and clipped) or attenuated."""
    audio, rate = read_pcm(source)
    return write_pcm(target, audio * gain, rate)


def repeated(source: Path, target: Path, *, times: int, gap: float) -> Path:
    """The speech said `times` times with pauses between, for a long clip."""
    audio, rate = read_pcm(source)
    pause = np.zeros(int(gap * rate), dtype=np.float32)
    return write_pcm(target, np.concatenate([audio, pause] * (times - 1) + [audio]), rate)


@pytest.fixture
def problem_set(speech_clips, tmp_path) -> tuple[list[tuple[Path, str]], dict[str, str]]:
    """Eight good clips plus a swapped pair, a clipped, a near-silent and a 40 s clip."""
    short, long = speak(SHORT, tmp_path / "short.wav"), speak(LONG, tmp_path / "long.wav")
    base_path, base_text = speech_clips[0]
    problems = {
        "short.wav": LONG,  # the two transcripts are swapped
        "long.wav": SHORT,
        "clipped.wav": base_text,
        "whisper.wav": base_text,
        "forty.wav": " ".join([base_text] * 5),
    }
    scaled(base_path, tmp_path / "clipped.wav", 12.0)
    scaled(base_path, tmp_path / "whisper.wav", 0.0005)
    forty = repeated(base_path, tmp_path / "forty.wav", times=5, gap=6.5)
    assert 38 < read_pcm(forty)[0].size / 22050 < 45
    clips = speech_clips[1:9] + [(short, LONG), (long, SHORT)]
    clips += [(tmp_path / name, problems[name]) for name in ("clipped.wav", "whisper.wav")]
    return [*clips, (forty, problems["forty.wav"])], problems


def test_report_flags_swapped_clipped_quiet_and_long_clips(client, admin_headers, problem_set):
    clips, problems = problem_set
    assert batch(client, admin_headers, "mixed", clips)["stored"] == len(clips)
    report = client.get(f"{DATASETS}/mixed/report", headers=admin_headers).json()
    flags = {clip["file"]: set(clip["flags"]) for clip in report["clips"]}
    assert "rate_mismatch" in flags["short.wav"] and "rate_mismatch" in flags["long.wav"]
    assert "clipping" in flags["clipped.wav"]
    assert "too_quiet" in flags["whisper.wav"]
    assert "too_long" in flags["forty.wav"]
    good = [name for name in flags if name not in problems]
    assert len(good) == 8 and all(not flags[name] for name in good), flags
    totals = report["totals"]
    assert totals["clips"] == 13 and totals["flagged_clips"] == 5
    assert totals["max_seconds"] > 38 and totals["min_seconds"] <= totals["median_seconds"]
    assert any("under 5 minutes" in w for w in report["warnings"])
    entry = next(c for c in report["clips"] if c["file"] == "clipped.wav")
    assert entry["clipped_ratio"] > 0.01 and entry["peak_dbfs"] > -0.1
    assert {"loudness_lufs", "leading_silence", "trailing_silence", "snr_db"} <= entry.keys()


def test_report_is_stored_at_ingest_and_listed_with_the_clips(
    client, admin_headers, settings, speech_clips
):
    batch(client, admin_headers, "stored", speech_clips[:3])
    with sqlite3.connect(settings.data_dir / "voicesmith.db") as db:
        (raw,) = db.execute("SELECT report FROM datasets WHERE name = 'stored'").fetchone()
    served = client.get(f"{DATASETS}/stored/report", headers=admin_headers).json()
    assert json.loads(raw) == served
    page = client.get(f"{DATASETS}/stored", headers=admin_headers).json()
    assert [c["flags"] for c in page["clips"]] == [c["flags"] for c in served["clips"]]
    listing = client.get(DATASETS, headers=admin_headers).json()["datasets"]
    assert listing[0]["warning_count"] == len(served["warnings"]) >= 1


def test_editing_a_transcript_updates_the_report(client, admin_headers, speech_clips):
    batch(client, admin_headers, "edits", speech_clips[:6])
    first = speech_clips[0][0].name
    body = {"transcript": speech_clips[1][1] + " " + speech_clips[2][1] + " And more words."}
    client.patch(f"{DATASETS}/edits/clips/{first}", json=body, headers=admin_headers)
    report = client.get(f"{DATASETS}/edits/report", headers=admin_headers).json()
    assert report["clips"][0]["flags"] == ["rate_mismatch"]


def test_ingest_trims_silence_normalises_loudness_and_keeps_the_original(
    client, admin_headers, settings, speech_clips, tmp_path
):
    source = padded(speech_clips[0][0], tmp_path / "padded.wav", seconds=1.5)
    upload_clips(client, admin_headers, [(source, speech_clips[0][1])], "clean")
    wav = settings.data_dir / "data" / "clean" / "wavs" / "padded.wav"
    audio, rate = read_pcm(wav)
    spoken = read_pcm(speech_clips[0][0])[0].size / rate
    # espeak adds its own trailing pause; trimming keeps 100 ms on each side of the speech.
    assert audio.size / rate < spoken + 0.25
    assert pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64)) == pytest.approx(
        -23.0, abs=0.5
    )
    original = settings.data_dir / "data" / "clean" / "originals" / "padded.wav"
    assert original.read_bytes() == source.read_bytes()


def test_switching_clean_up_off_rebuilds_from_the_originals(
    client, admin_headers, settings, speech_clips, tmp_path
):
    source = padded(speech_clips[0][0], tmp_path / "padded.wav", seconds=1.5)
    upload_clips(client, admin_headers, [(source, speech_clips[0][1])], "rebuild")
    body = {"trim_silence": False, "normalize_loudness": False}
    response = client.put(f"{DATASETS}/rebuild/cleanup", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json()["rebuilt"] == 1 and response.json()["kept"] == []
    wav = settings.data_dir / "data" / "rebuild" / "wavs" / "padded.wav"
    assert np.array_equal(read_pcm(wav)[0], read_pcm(source)[0])
    listing = client.get(DATASETS, headers=admin_headers).json()["datasets"][0]
    assert listing["trim_silence"] is False and listing["normalize_loudness"] is False
    page = client.get(f"{DATASETS}/rebuild", headers=admin_headers).json()
    assert page["clips"][0]["duration_seconds"] == pytest.approx(
        read_pcm(source)[0].size / 22050, abs=1e-3
    )


def test_loud_peaks_stay_under_the_ceiling(client, admin_headers, settings, tmp_path, speech_clips):
    # A quiet voice with one loud click: full normalisation would push the click past 0 dBFS.
    audio, rate = read_pcm(speech_clips[0][0])
    audio = audio * 0.02
    audio[rate // 2] = 0.9
    path = write_pcm(tmp_path / "click.wav", audio, rate)
    upload_clips(client, admin_headers, [(path, speech_clips[0][1])], "peaks")
    stored, _ = read_pcm(settings.data_dir / "data" / "peaks" / "wavs" / "click.wav")
    assert np.abs(stored).max() <= 10 ** (-1 / 20) + 1e-4


def test_bad_cleanup_settings_are_refused(client, admin_headers):
    body = {"trim_silence": True, "target_lufs": 12}
    response = client.put(f"{DATASETS}/x/cleanup", json=body, headers=admin_headers)
    assert response.status_code == 422 and "target_lufs" in response.text
    response = client.put(f"{DATASETS}/bad name/cleanup", json={}, headers=admin_headers)
    assert response.status_code == 422 and "dataset name" in response.json()["detail"]


def test_a_job_keeps_its_dataset_snapshot_whatever_is_edited_later(
    client, admin_headers, settings, speech_clips
):
    upload_clips(client, admin_headers, speech_clips[:10], "frozen")
    body = {"dataset_name": "frozen", "base_model": "scratch:tiny", "epochs": 1}
    started = client.post("/api/v1/admin/training/start", json=body, headers=admin_headers)
    assert started.status_code == 200, started.text
    frozen = Path(started.json()["output_dir"]) / "dataset"
    before = (frozen / "metadata.csv").read_text()
    manifest = json.loads((frozen / "snapshot.json").read_text())
    assert [c["file"] for c in manifest["clips"]] == [p.name for p, _ in speech_clips[:10]]
    first, second = speech_clips[0][0].name, speech_clips[1][0].name
    edit = {"transcript": "A different transcript now."}
    assert client.patch(
        f"{DATASETS}/frozen/clips/{first}", json=edit, headers=admin_headers
    ).is_success
    assert client.delete(f"{DATASETS}/frozen/clips/{second}", headers=admin_headers).is_success
    cleanup = {"trim_silence": False, "normalize_loudness": False}
    assert client.put(f"{DATASETS}/frozen/cleanup", json=cleanup, headers=admin_headers).is_success
    assert (frozen / "metadata.csv").read_text() == before
    for clip in manifest["clips"]:
        digest = hashlib.sha256((frozen / "wavs" / clip["file"]).read_bytes()).hexdigest()
        assert digest == clip["wav_sha256"]
    live = settings.data_dir / "data" / "frozen" / "wavs" / first
    assert hashlib.sha256(live.read_bytes()).hexdigest() != manifest["clips"][0]["wav_sha256"]
