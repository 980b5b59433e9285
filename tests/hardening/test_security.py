"""Security headers on every answer, no secrets in the server's output, private credential files."""

import os
import stat
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, start_server, stop_server
from tests.factories import write_tone
from voicesmith.config import Settings
from voicesmith.web.render import CSP as PAGE_CSP

UPLOAD = "/api/v1/admin/training/upload"
# (method, path, what it is): JSON, errors of each kind, pages, files, the schema and the docs.
ANSWERS = [
    ("GET", "/api/v1/health", "json"),
    ("GET", "/api/v1/admin/training/datasets", "401"),
    ("GET", "/api/v1/admin/training/jobs/nope", "404 with a token"),
    ("GET", "/no/such/route", "404 route"),
    ("DELETE", "/api/v1/health", "405"),
    ("POST", "/api/v1/auth/login", "422"),
    ("POST", "/api/v1/admin/training/start", "413 before the app"),
    ("GET", "/login", "html page"),
    ("GET", "/", "redirect"),
    ("GET", "/static/app.css", "static file"),
    ("GET", "/openapi.json", "schema"),
    ("GET", "/docs", "docs page"),
    ("GET", "/api/v1/admin/training/datasets/base/clips/seed.wav/audio", "audio file"),
]


@pytest.mark.parametrize(("method", "path", "what"), ANSWERS, ids=[a[2] for a in ANSWERS])
def test_every_answer_has_security_headers(
    target: tuple[TestClient, Settings], method: str, path: str, what: str
) -> None:
    """nosniff, frame denial and a CSP on every answer; pages keep their own CSP."""
    client, _ = target
    big = b"x" * (2 * 2**20) if what.startswith("413") else None
    response = client.request(
        method, path, headers=client.admin, content=big, follow_redirects=False
    )
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff", what
    assert headers["X-Frame-Options"] == "DENY", what
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], what
    if what == "html page":
        assert headers["Content-Security-Policy"] == PAGE_CSP
    elif what == "docs page":
        assert "http" not in headers["Content-Security-Policy"], "the docs load nothing remote"
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
    elif what != "docs page":
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), what


def test_no_password_or_token_reaches_the_logs(tmp_path: Path) -> None:
    """After logins, a failed login, an upload and a new user, the output holds no secret."""
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    proc, base = start_server(tmp_path / "var", env, "--no-worker")
    secrets = [ADMIN_PASSWORD, "wrong-password-123", "bob-secret-password"]
    try:
        secrets += _use_the_server(base, tmp_path)
    finally:
        output = stop_server(proc)
    assert "POST /api/v1/auth/login" in output, output[-2000:]  # the access log was on
    for secret in secrets:
        assert secret not in output, f"a secret ({secret[:4]}...) is in the server's output"


def _use_the_server(base: str, tmp_path: Path) -> list[str]:
    """Log in, fail to log in, upload, create a user and log in as them; their tokens."""
    clip = write_tone(tmp_path / "clip.wav", seconds=1.0).read_bytes()
    with httpx.Client(base_url=base, timeout=30) as http:
        admin = http.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        token = admin.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        http.post(
            "/api/v1/auth/login", json={"username": "admin", "password": "wrong-password-123"}
        )
        user = {"username": "bob", "password": "bob-secret-password", "role": "user"}
        assert http.post("/api/v1/admin/users", json=user, headers=auth).status_code == 201
        bob = http.post("/api/v1/auth/login", json=user).json()["access_token"]
        form = {"dataset_name": "logs", "transcript": "Nothing secret here."}
        files = {"audio": ("clip.wav", clip)}
        assert http.post(UPLOAD, data=form, files=files, headers=auth).status_code == 200
        http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bob}"}).raise_for_status()
    return [token, bob]


def test_database_queue_and_password_files_are_private(tmp_path: Path) -> None:
    """voicesmith.db (and its WAL), queue.db and initial_admin_password are created 0600."""
    env = {k: v for k, v in os.environ.items() if k != "VOICESMITH_ADMIN_PASSWORD"}
    data = tmp_path / "var"
    proc, base = start_server(data, env)
    try:
        password = (data / "initial_admin_password").read_text().strip()
        login = {"username": "admin", "password": password}
        httpx.post(f"{base}/api/v1/auth/login", json=login, timeout=30).raise_for_status()
        names = ["voicesmith.db", "queue.db", "initial_admin_password"]
        names += [p.name for p in data.glob("*.db-*")]
        modes = {name: stat.S_IMODE((data / name).stat().st_mode) for name in names}
    finally:
        stop_server(proc)
    assert modes == dict.fromkeys(names, 0o600)
    assert any(name.endswith("-wal") for name in names)
