"""Against a real `voicesmith serve` process: bootstrap, concurrency and streamed size limits."""

import os
import socket
import stat
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, login, start_server, stop_server
from tests.factories import speak

UPLOAD = "/api/v1/admin/training/upload"


def test_first_start_generates_and_prints_an_admin_password(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VOICESMITH_ADMIN_PASSWORD"}
    data_dir = tmp_path / "var"
    proc, base = start_server(data_dir, env)
    first_output = stop_server(proc)
    secret_file = data_dir / "initial_admin_password"
    password = secret_file.read_text().strip()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert password in first_output
    proc, base = start_server(data_dir, env)
    with httpx.Client(base_url=base) as client:
        assert client.get("/api/v1/auth/me", headers=login(client, "admin", password)).is_success
    assert password not in stop_server(proc)


def test_concurrent_uploads_to_one_dataset_all_land(live_server, tmp_path):
    base, data_dir = live_server
    sentences = [f"This is sentence number {n} for the voice." for n in range(8)]
    # Half the clips share a filename, so unique naming is exercised under contention too.
    clips = [
        (speak(s, tmp_path / f"s{n}.wav"), "same.wav" if n % 2 else f"s{n}.wav", s)
        for n, s in enumerate(sentences)
    ]
    with httpx.Client(base_url=base, timeout=60) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)

        def send(clip):
            path, name, text = clip
            files = {"audio": (name, path.read_bytes())}
            data = {"dataset_name": "together", "transcript": text}
            return client.post(UPLOAD, data=data, files=files, headers=headers)

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(send, clips))
        listing = client.get("/api/v1/admin/training/datasets", headers=headers).json()
    assert [r.status_code for r in responses] == [200] * 8
    metadata = (data_dir / "data" / "together" / "metadata.csv").read_text()
    lines = metadata.splitlines()
    assert len(lines) == len(set(lines)) == 8
    assert sorted(line.split("|")[1] for line in lines) == sorted(sentences)
    assert {r.json()["wav_filename"] for r in responses} == {line.split("|")[0] for line in lines}
    wavs = sorted(p.name for p in (data_dir / "data" / "together" / "wavs").iterdir())
    assert wavs == sorted(line.split("|")[0] for line in lines)
    assert listing["datasets"][0]["audio_count"] == 8


def _raw_post(base: str, headers: dict[str, str], head: bytes, chunks) -> bytes:
    """Send a raw HTTP request, stopping early if the server answers and closes."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        auth = headers["Authorization"].encode()
        sock.sendall(head.replace(b"{auth}", auth))
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return sock.recv(65536)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_is_refused_without_reading_it(live_server, chunked):
    base, _ = live_server
    with httpx.Client(base_url=base) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
    total = 200 * 1024 * 1024  # four times the default limit; never fully sent
    framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}".encode()
    head = (
        b"POST " + UPLOAD.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n" + framing + b"\r\n\r\n"
    )
    part = b'--b\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'
    blocks = [part] + [bytes(1024 * 1024)] * 200
    body = (b"%x\r\n" % len(b) + b + b"\r\n" if chunked else b for b in blocks)
    reply = _raw_post(base, headers, head, body)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"limit" in reply
