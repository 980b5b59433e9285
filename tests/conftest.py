"""Shared fixtures: an app on a real SQLite file, clients with tokens, a live server."""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

# Rule 7: the environment is fixed before the app is imported, so nothing reads a real ./var.
os.environ["VOICESMITH_DATA_DIR"] = tempfile.mkdtemp(prefix="voicesmith-tests-")
atexit.register(shutil.rmtree, os.environ["VOICESMITH_DATA_DIR"], ignore_errors=True)
# Tiny test models need megabytes; CI machines have about 2 GB free, under the default margin.
os.environ["VOICESMITH_MIN_FREE_DISK_MB"] = "200"
# Each tiny checkpoint is 70 MB (mostly the discriminator's optimizer state); one is enough.
os.environ["VOICESMITH_KEEP_CHECKPOINTS"] = "1"
os.environ["VOICESMITH_ADMIN_PASSWORD"] = "test-admin-password"
# Embedding a clip's speaker loads torch and resemblyzer into every process with a worker,
# live servers included (5 to 10 s of imports on 2 cores each). The tests about speakers
# turn it on (tests/integration/test_speakers.py).
os.environ["VOICESMITH_SPEAKER_EMBEDDINGS"] = "false"
os.environ.pop("VOICESMITH_DATABASE_URL", None)

from fastapi.testclient import TestClient  # noqa: E402

from voicesmith.app import create_app  # noqa: E402
from voicesmith.config import Settings  # noqa: E402

ADMIN_PASSWORD = "test-admin-password"
USER_PASSWORD = "plain-user-password"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data directory for one test."""
    return tmp_path / "var"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    """Settings for one test: its own data dir and SQLite file."""
    return Settings(data_dir=data_dir, admin_password=ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def first_start(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """voicesmith.db as an app's first start leaves it (migrated, admin bootstrapped), and a
    token of that admin's: two argon2 hashes and the migrations, done once per session."""
    data = tmp_path_factory.mktemp("first-start") / "var"
    with TestClient(create_app(Settings(data_dir=data, admin_password=ADMIN_PASSWORD))) as app:
        headers = login(app, "admin", ADMIN_PASSWORD)
    return data / "voicesmith.db", headers


@pytest.fixture
def client(settings: Settings, first_start: tuple[Path, dict[str, str]]) -> Iterator[TestClient]:
    """A client for an app that has run its startup, on a copy of the first start's database."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(first_start[0], settings.data_dir / "voicesmith.db")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def login(client: TestClient | httpx.Client, username: str, password: str) -> dict[str, str]:
    """Log in and return the Authorization header."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def admin_headers(client: TestClient, first_start: tuple[Path, dict[str, str]]) -> dict[str, str]:
    """Authorization header for the bootstrapped admin: the token in the copied database."""
    return dict(first_start[1])


@pytest.fixture
def user_headers(client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    """Authorization header for a non-admin user."""
    body = {"username": "alice", "password": USER_PASSWORD, "role": "user"}
    assert client.post("/api/v1/admin/users", json=body, headers=admin_headers).status_code == 201
    return login(client, "alice", USER_PASSWORD)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen, str]:
    """Start `voicesmith serve` in a child process and wait until it answers."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "voicesmith",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *extra,
    ]
    # A file, not a pipe: nobody reads a pipe while the test runs, and a full one blocks the server.
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(cmd, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    proc.output = output
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server did not start: {_read_output(proc)}")


def start_server_retrying(work: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """start_server, tried again: on a busy host its imports can outlast its 30 s wait."""
    for attempt in range(3):
        try:
            return start_server(work / "var", env)
        except RuntimeError as exc:
            print(f"attempt {attempt + 1}: {exc}", file=sys.stderr)
    raise SystemExit("the server did not start in 3 attempts")


def _read_output(proc: subprocess.Popen) -> str:
    """Everything a server started by start_server has printed."""
    proc.output.seek(0)
    return proc.output.read()


def stop_server(proc: subprocess.Popen) -> str:
    """Stop a server started by start_server and return what it printed."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    text = _read_output(proc)
    proc.output.close()
    return text


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real `voicesmith serve` process on a free port, one per module; its URL and data dir."""
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    data_dir = tmp_path_factory.mktemp("live") / "var"
    proc, base = start_server(data_dir, env)
    yield base, data_dir
    stop_server(proc)


SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
    "A journey of a thousand miles begins with one step.",
    "The rain in Spain stays mainly in the plain.",
    "All that glitters is not gold.",
    "Time and tide wait for no one.",
    "Actions speak louder than words.",
    "Every cloud has a silver lining.",
    "Knowledge is power, and power is knowledge.",
    "The early bird catches the worm.",
    "Practice makes perfect, they say.",
    "Where there is a will, there is a way.",
]


@pytest.fixture(scope="session")
def speech_clips(tmp_path_factory) -> list[tuple[Path, str]]:
    """Twelve short sentences spoken by espeak-ng, made once per session."""
    from tests.factories import speak

    folder = tmp_path_factory.mktemp("speech")
    return [(speak(text, folder / f"spoken_{n:02d}.wav"), text) for n, text in enumerate(SENTENCES)]


def upload_clips(client, headers, clips, dataset: str) -> None:
    """Upload clips into a dataset through the seed's endpoint."""
    for path, text in clips:
        response = client.post(
            "/api/v1/admin/training/upload",
            data={"dataset_name": dataset, "transcript": text},
            files={"audio": (path.name, path.read_bytes())},
            headers=headers,
        )
        assert response.status_code == 200, response.text


# PYTHONDONTWRITEBYTECODE as the session found it, when pytest_configure lifted it.
_LIFTED: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """The environment of the processes tests start: shared bytecode, no TensorBoard figures."""
    # Drawing TensorBoard's figures costs a tiny job 3.5 s of its 17, and the suite trains
    # about 40 jobs. The fresh-clone test trains with them, as a user's job does.
    os.environ.setdefault("VOICESMITH_TRAINING_FIGURES", "false")
    _share_bytecode()


def _share_bytecode() -> None:
    """The processes tests start share compiled bytecode, even with PYTHONDONTWRITEBYTECODE set.

    Each server, worker, CLI run and training child imports thousands of modules; without .pyc
    files every one compiles them again (3 s of CPU for the app, 2 s more for torch). The cache is
    a temporary folder of the session's, so nothing is written beside the sources or the venv.
    """
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and "PYTHONPYCACHEPREFIX" not in os.environ:
        prefix = tempfile.mkdtemp(prefix="voicesmith-pycache-")
        atexit.register(shutil.rmtree, prefix, ignore_errors=True)
        _LIFTED["PYTHONDONTWRITEBYTECODE"] = os.environ.pop("PYTHONDONTWRITEBYTECODE")
        os.environ["PYTHONPYCACHEPREFIX"] = prefix


def without_bytecode_cache(env: dict[str, str]) -> dict[str, str]:
    """env without the session's shared bytecode cache, as the user's own shell has it."""
    if not _LIFTED:
        return env
    return {**{k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}, **_LIFTED}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the `gate` tests first: when the install is broken, nothing else can pass."""
    items.sort(key=lambda item: item.get_closest_marker("gate") is None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Stop the whole session when a `gate` test fails, in seconds rather than ten minutes."""
    report = yield
    if report.failed and item.get_closest_marker("gate") is not None:
        item.session.shouldstop = f"the install is broken: {item.name} failed, see above"
    return report
