"""Bulk import: a zip or many parts with metadata, every metadata form, and bad batches."""

import io
import zipfile
from pathlib import Path

import pytest

from tests.factories import fixture_clips, speak, transcode, write_tone

BATCH = "/api/v1/admin/training/upload-batch"


def metadata_for(clips: list[tuple[Path, str]]) -> bytes:
    """`file|transcript` lines for clips."""
    return "".join(f"{p.name}|{t}\n" for p, t in clips).encode()


def as_zip(entries: dict[str, bytes]) -> bytes:
    """A zip holding the given names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def send_parts(client, headers, clips, metadata: bytes, dataset="bulk"):
    """POST clips as audio parts plus a metadata part."""
    files = [("audio", (p.name, p.read_bytes())) for p, _ in clips]
    files.append(("metadata", ("metadata.csv", metadata)))
    return client.post(BATCH, data={"dataset_name": dataset}, files=files, headers=headers)


def send_zip(client, headers, payload: bytes, dataset="bulk"):
    """POST one archive."""
    return client.post(
        BATCH,
        data={"dataset_name": dataset},
        files={"archive": ("clips.zip", payload)},
        headers=headers,
    )


def test_the_fixtures_as_a_zip(client, admin_headers, settings):
    clips = fixture_clips()
    entries = {f"lj/{p.name}": p.read_bytes() for p, _ in clips}
    entries["lj/metadata.csv"] = metadata_for(clips)
    response = send_zip(client, admin_headers, as_zip(entries))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["stored"], body["audio_count"], body["rejected"]) == (
        "stored",
        8,
        8,
        [],
    )
    lines = (settings.datasets_dir / "bulk" / "metadata.csv").read_text().splitlines()
    assert sorted(lines) == sorted(f"{p.stem}.wav|{t}" for p, t in clips)


def test_the_fixtures_as_parts_and_a_repeat_is_all_duplicates(client, admin_headers):
    clips = fixture_clips()
    first = send_parts(client, admin_headers, clips, metadata_for(clips)).json()
    assert first["stored"] == 8
    again = send_parts(client, admin_headers, clips, metadata_for(clips)).json()
    assert again["stored"] == 0 and again["audio_count"] == 8
    assert {r["file"] for r in again["rejected"]} == {p.name for p, _ in clips}
    assert all("duplicate of" in r["detail"] for r in again["rejected"])


def test_thirty_clips_in_mixed_formats(client, admin_headers, tmp_path):
    clips = []
    for n in range(30):
        wav = speak(f"Generated sentence number {n} for the bulk import.", tmp_path / f"g{n}.wav")
        if n % 3 == 1:
            wav = transcode(wav, tmp_path / f"g{n}.mp3", codec="libmp3lame", rate=44100)
        elif n % 3 == 2:
            wav = transcode(wav, tmp_path / f"g{n}.m4a", codec="aac", rate=48000, channels=2)
        clips.append((wav, f"Generated sentence number {n} for the bulk import."))
    response = send_parts(client, admin_headers, clips, metadata_for(clips), dataset="mixed")
    assert response.json()["stored"] == 30, response.json()["rejected"]


@pytest.mark.parametrize("form", ["pipes", "ljspeech", "csv", "bom-crlf", "stems"])
def test_every_metadata_form(client, admin_headers, settings, form):
    clips = fixture_clips()[:3]
    lines = {
        "pipes": [f"{p.name}|{t}" for p, t in clips],
        "ljspeech": [f"{p.stem}|raw {t}|{t}" for p, t in clips],
        "csv": ["file,transcript", *[f'{p.name},"{t}"' for p, t in clips]],
        "bom-crlf": [f"{p.name}|{t}" for p, t in clips],
        "stems": [f"{p.stem}.wav|{t}" for p, t in clips],
    }[form]
    text = ("\r\n" if form == "bom-crlf" else "\n").join(lines)
    raw = ("\ufeff" + text).encode() if form == "bom-crlf" else text.encode()
    response = send_parts(client, admin_headers, clips, raw, dataset=form)
    assert response.json()["stored"] == 3, response.json()
    stored = (settings.datasets_dir / form / "metadata.csv").read_text().splitlines()
    assert sorted(line.split("|")[1] for line in stored) == sorted(t for _, t in clips)


def test_leftovers_on_both_sides_are_reported_by_name(client, admin_headers, tmp_path):
    clips = fixture_clips()[:3]
    stray = write_tone(tmp_path / "stray.wav", seconds=1.0)
    metadata = metadata_for(clips[:2]) + b"ghost.wav|Nobody sent this one.\n"
    body = send_parts(client, admin_headers, [*clips, (stray, "")], metadata).json()
    reasons = {r["file"]: r["detail"] for r in body["rejected"]}
    # Clips without a transcript are kept for speech recognition to transcribe.
    assert body["stored"] == 4 and body["pending"] == 2 and body["audio_count"] == 2
    assert set(reasons) == {"ghost.wav"} and "no such audio file" in reasons["ghost.wav"]


def test_bad_clips_are_rejected_one_by_one(client, admin_headers, tmp_path):
    good = fixture_clips()[0]
    short = write_tone(tmp_path / "short.wav", seconds=0.2)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    clips = [good, (short, "Too short."), (junk, "Junk."), (tmp_path / "pipe.wav", "a|b")]
    write_tone(tmp_path / "pipe.wav", seconds=1.0)
    metadata = b"".join(f"{p.name}\t{t}\n".replace("\t", "|").encode() for p, t in clips[:3])
    metadata += b"pipe.wav|bad|text|here\n"
    response = send_parts(client, admin_headers, clips, metadata)
    assert response.status_code == 422 and "4 columns" in response.json()["detail"]
    body = send_parts(client, admin_headers, clips[:3], metadata_for(clips[:3])).json()
    reasons = {r["file"]: r["detail"] for r in body["rejected"]}
    assert body["stored"] == 1
    assert "at least 0.5" in reasons["short.wav"] and "decode" in reasons["junk.mp3"]


@pytest.mark.parametrize(
    ("entries", "needle"),
    [
        ({"../evil.wav": b"x", "metadata.csv": b"evil.wav|x\n"}, "outside the archive"),
        ({"/abs.wav": b"x", "metadata.csv": b"abs.wav|x\n"}, "outside the archive"),
        ({"a/clip.wav": b"x", "b/clip.wav": b"y", "metadata.csv": b"clip.wav|x\n"}, "two files"),
        ({"clip.wav": b"x", "metadata.csv": b"\xff\xfe bad"}, "not UTF-8"),
    ],
)
def test_unsafe_or_broken_archives_store_nothing(client, admin_headers, settings, entries, needle):
    response = send_zip(client, admin_headers, as_zip(entries))
    assert response.status_code == 422 and needle in response.json()["detail"]
    assert not (settings.datasets_dir / "bulk").exists()
    assert list((settings.data_dir / "tmp").iterdir()) == []


def test_a_zip_bomb_is_refused(client, admin_headers):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.wav", bytes(300 * 2**20))
        zf.writestr("metadata.csv", "bomb.wav|boom\n")
    response = send_zip(client, admin_headers, buffer.getvalue())
    assert response.status_code == 422 and "too large" in response.json()["detail"]


def test_too_many_files_and_not_a_zip(client, admin_headers):
    entries = {f"c{n}.wav": b"" for n in range(5001)}
    assert "limit is 5000" in send_zip(client, admin_headers, as_zip(entries)).json()["detail"]
    assert "not a valid zip" in send_zip(client, admin_headers, b"PK nope").json()["detail"]


def test_unsafe_names_get_safe_generated_names(client, admin_headers, settings, tmp_path):
    tone = write_tone(tmp_path / "t.wav", seconds=1.0).read_bytes()
    names = ["my clip (1).wav", "ünïcødé.wav", "$(rm -rf).wav"]
    entries = {name: tone + bytes([n]) for n, name in enumerate(names)}
    entries["metadata.csv"] = "".join(f"{n}|Sentence {i}.\n" for i, n in enumerate(names)).encode()
    body = send_zip(client, admin_headers, as_zip(entries)).json()
    assert body["stored"] == 3, body
    wavs = sorted(p.name for p in (settings.datasets_dir / "bulk" / "wavs").iterdir())
    assert all(
        set(w) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        for w in wavs
    )


def test_neither_or_both_sources_is_a_clear_422(client, admin_headers):
    response = client.post(BATCH, data={"dataset_name": "x"}, headers=admin_headers)
    assert response.status_code == 422 and "either one zip ('archive')" in response.json()["detail"]


def test_export_reimports_to_the_same_clips(client, admin_headers):
    clips = fixture_clips()
    send_parts(client, admin_headers, clips, metadata_for(clips), dataset="orig")
    exported = client.get("/api/v1/admin/training/datasets/orig/export", headers=admin_headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert "orig/metadata.csv" in names and len([n for n in names if "/wavs/" in n]) == 8
    body = send_zip(client, admin_headers, exported.content, dataset="copy").json()
    assert (body["stored"], body["rejected"]) == (8, [])
    listing = client.get("/api/v1/admin/training/datasets", headers=admin_headers).json()
    counts = {
        d["name"]: (d["audio_count"], round(d["total_seconds"], 2)) for d in listing["datasets"]
    }
    assert counts["copy"] == counts["orig"]


def test_export_of_an_unknown_dataset_is_404(client, admin_headers):
    response = client.get("/api/v1/admin/training/datasets/nope/export", headers=admin_headers)
    assert response.status_code == 404 and "does not exist" in response.json()["detail"]
