"""Crashes and full disks: kill -9 mid-import, orphans of every kind, and RLIMIT_FSIZE uploads."""

import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, login, start_server, stop_server
from tests.factories import write_tone
from tests.hardening.kit import as_zip
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.transcripts.models import LongImport

API = "/api/v1/admin/training"
ENV = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": ADMIN_PASSWORD}
# Big enough for the database and the server's own files, too small for a 50 s WAV (2.2 MB).
FILE_SIZE_LIMIT = 1536 * 1024


def test_kill_9_mid_import_then_restart_leaves_no_orphans(tmp_path: Path, record_property) -> None:
    """kill -9 while a 120-clip import stores its clips; the restart's scrub leaves no orphan."""
    data = tmp_path / "var"
    proc, base = start_server(data, ENV, "--no-worker")
    wavs = data / "data" / "crash" / "wavs"
    sender = threading.Thread(target=_post_zip, args=(base, _crash_zip(tmp_path)), daemon=True)
    sender.start()
    try:
        _wait_for(lambda: wavs.is_dir() and any(wavs.iterdir()), timeout=120)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        stop_server(proc)
    assert any((data / "tmp").iterdir()), "the kill should leave the import's staging behind"
    record_property("stored_at_kill", len(list(wavs.iterdir())))
    proc, base = start_server(data, ENV, "--no-worker")
    try:
        _assert_consistent(base, data, "crash")
    finally:
        stop_server(proc)


def _crash_zip(folder: Path) -> bytes:
    """120 different clips with their metadata, zipped."""
    entries = {}
    for n in range(120):
        tone = write_tone(folder / f"c{n}.wav", seconds=1.0 + n / 200, amplitude=0.1 + n / 300)
        entries[tone.name] = tone.read_bytes()
    entries["metadata.csv"] = "".join(f"c{n}.wav|Crash clip {n}.\n" for n in range(120)).encode()
    return as_zip(entries)


def _post_zip(base: str, payload: bytes) -> None:
    """Send the import; the server dies under it, so the answer never comes."""
    with httpx.Client(base_url=base, timeout=300) as http:
        headers = login(http, "admin", ADMIN_PASSWORD)
        files = {"archive": ("clips.zip", payload)}
        with suppress(httpx.TransportError):
            http.post(
                f"{API}/upload-batch", data={"dataset_name": "crash"}, files=files, headers=headers
            )


def _wait_for(condition, *, timeout: float) -> None:
    """Poll fast until condition() holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def _assert_consistent(base: str, data: Path, name: str) -> None:
    """tmp/ is empty, and wavs/, originals/ and metadata.csv are exactly the dataset's rows."""
    assert not any((data / "tmp").iterdir())
    with httpx.Client(base_url=base, timeout=60) as http:
        headers = login(http, "admin", ADMIN_PASSWORD)
        page = http.get(f"{API}/datasets/{name}?limit=1000", headers=headers)
    rows = [(c["file"], c["transcript"]) for c in page.json()["clips"]] if page.is_success else []
    folder = data / "data" / name
    wavs = sorted(p.name for p in (folder / "wavs").glob("*")) if folder.exists() else []
    assert wavs == sorted(f for f, _ in rows)
    originals = list((folder / "originals").glob("*")) if folder.exists() else []
    assert sorted(p.stem for p in originals) == sorted(f.removesuffix(".wav") for f, _ in rows)
    metadata = folder / "metadata.csv"
    lines = metadata.read_text().splitlines() if metadata.exists() else []
    assert lines == [f"{f}|{t}" for f, t in rows]
    assert not list(folder.rglob("*.part"))


def test_startup_scrub_removes_each_kind_of_orphan(tmp_path: Path, record_property) -> None:
    """Planted orphans (tmp leftovers, WAVs, originals without rows, rows without WAVs) go."""
    settings = Settings(data_dir=tmp_path / "var", admin_password=ADMIN_PASSWORD)
    with TestClient(create_app(settings)) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        for n in range(3):
            tone = write_tone(tmp_path / f"t{n}.wav", seconds=1.0 + n / 10).read_bytes()
            form = {"dataset_name": "scrub", "transcript": f"Kept {n}."}
            files = {"audio": (f"t{n}.wav", tone)}
            client.post(f"{API}/upload", data=form, files=files, headers=headers).raise_for_status()
        waiting = _queue_long_import(client, settings.data_dir)
    planted = _plant_orphans(settings.data_dir)
    record_property("cases", len(planted))
    with TestClient(create_app(settings)) as client:
        page = client.get(f"{API}/datasets/scrub", headers=login(client, "admin", ADMIN_PASSWORD))
    assert [c["file"] for c in page.json()["clips"]] == ["t0.wav", "t2.wav"]
    assert [p for p in planted if p.exists()] == []
    assert waiting.exists(), "a queued long import's recording must survive the scrub"
    folder = settings.datasets_dir / "scrub"
    assert (folder / "metadata.csv").read_text() == "t0.wav|Kept 0.\nt2.wav|Kept 2.\n"
    assert sorted(p.name for p in (folder / "wavs").iterdir()) == ["t0.wav", "t2.wav"]


def _queue_long_import(client: TestClient, data: Path) -> Path:
    """A long recording waiting in tmp/ for its queued import."""
    waiting = data / "tmp" / "long-abc.mp3"
    waiting.parent.mkdir(parents=True, exist_ok=True)
    waiting.write_bytes(b"a recording")
    row = LongImport(dataset_name="scrub", original_filename="talk.mp3", source_path=str(waiting))
    with client.app.state.sessionmaker() as session:
        session.add(row)
        session.commit()
    return waiting


def _plant_orphans(data: Path) -> list[Path]:
    """What a crash at each step of a write leaves behind; the paths that must go."""
    folder = data / "data" / "scrub"
    (folder / "wavs" / "t1.wav").unlink()  # a row without its WAV
    planted = [
        data / "tmp" / "tmpabc.wav.part",
        data / "tmp" / "batch-xyz" / "files" / "a.wav",
        folder / "wavs" / "stray.wav",
        folder / "originals" / "stray.mp3",
        folder / ".metadata.csv.abc.part",
        folder / "originals" / "t1.wav",
    ]
    for path in planted[:-1]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind")
    (folder / "metadata.csv").write_text("")  # rendered before the rows were committed
    return planted


@contextmanager
def limited_server(data: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A live server that may write no file past FILE_SIZE_LIMIT bytes, and an admin client."""
    stop_server(start_server(data, ENV, "--no-worker")[0])  # migrate while there is room
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, hard))
    try:
        proc, base = start_server(data, ENV, "--no-worker")  # the child inherits the limit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            yield http, login(http, "admin", ADMIN_PASSWORD)
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def full_disk(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, httpx.Client, dict[str, str]]]:
    """One limited server for every disk-full case: each must leave it as empty as it found it."""
    data = tmp_path_factory.mktemp("full") / "var"
    with limited_server(data) as (http, headers):
        yield data, http, headers


@pytest.fixture(scope="module")
def long_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 50 s MP3 (400 KB) whose 22050 Hz WAV (2.2 MB) is past the file size limit."""
    path = tmp_path_factory.mktemp("long") / "long.mp3"
    return write_tone(path, seconds=50, codec="libmp3lame").read_bytes()


DISK_FULL = [
    pytest.param("upload", id="converting-one-upload"),
    pytest.param("body", id="receiving-the-body"),
    pytest.param("batch", id="converting-a-batch"),
]


@pytest.mark.parametrize("where", [p.values[0] for p in DISK_FULL], ids=[p.id for p in DISK_FULL])
def test_disk_full_is_a_clean_507(
    tmp_path: Path, full_disk: tuple, long_mp3: bytes, where: str
) -> None:
    """When the disk fills during an upload: 507 with a detail, and nothing half-written."""
    data, http, headers = full_disk
    short = write_tone(tmp_path / "s.wav", seconds=1.0).read_bytes()
    request = _request(where, long_mp3, short)
    response = http.post(f"{API}/{_path(where)}", headers=headers, **request)
    assert response.status_code == 507, response.text
    assert "ran out of storage" in response.json()["detail"]
    assert "nothing was stored" in response.json()["detail"]
    datasets = http.get(f"{API}/datasets", headers=headers).json()["datasets"]
    assert datasets == []
    assert not (data / "tmp").exists() or not any((data / "tmp").iterdir())
    assert not list((data / "data").rglob("*.wav"))


def _path(where: str) -> str:
    return "upload-batch" if where == "batch" else "upload"


def _request(where: str, long_mp3: bytes, short: bytes) -> dict:
    """The upload for each place the disk can fill."""
    if where == "batch":
        zipped = as_zip(
            {"a.wav": short, "long.mp3": long_mp3, "metadata.csv": b"a.wav|A.\nlong.mp3|B.\n"}
        )
        return {"data": {"dataset_name": "full"}, "files": {"archive": ("b.zip", zipped)}}
    # The body itself is spooled to a temporary file first: 2 MB of it cannot be.
    audio = long_mp3 * 5 if where == "body" else long_mp3
    form = {"dataset_name": "full", "transcript": "A long clip."}
    return {"data": form, "files": {"audio": ("long.mp3", audio)}}
