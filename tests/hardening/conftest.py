"""Hardening fixtures: a seeded app to attack, state snapshots, and the results record."""

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, login
from tests.factories import write_tone
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.db import Base

HERE = Path(__file__).resolve().parent
RESULTS = Path(
    os.environ.get(
        "VOICESMITH_HARDENING_RESULTS", HERE.parents[1] / "build" / "hardening-results.json"
    )
)
# Tokens and login throttles change on every login attempt, good or bad; that is their job.
VOLATILE_TABLES = {"api_tokens", "login_throttles", "workers", "alembic_version"}
VOLATILE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".lock")
_results: list[dict] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/hardening, and note what each hardening test tries."""
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.hardening)
        if item.get_closest_marker("hardening") is not None:
            doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
            item.user_properties.append(("what", doc[0] if doc else item.name))


class Recorder:
    """Keeps every hardening test's outcome, wherever it lives (some are in tests/slow)."""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the outcome of a hardening test's call (or of its failed setup)."""
        if "hardening" not in report.keywords:
            return
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            props = dict(report.user_properties)
            seconds = round(report.duration, 3)
            _results.append(
                {"nodeid": report.nodeid, "outcome": report.outcome, "seconds": seconds, **props}
            )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the outcomes where `python -m tests.hardening.report` reads them."""
        if _results:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(_results, indent=1), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    """Register the recorder globally; a conftest's own run hooks see only its folder."""
    config.pluginmanager.register(Recorder(), "voicesmith-hardening-recorder")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    """An app with one small dataset 'base', an admin and a plain user, to be attacked."""
    root = tmp_path_factory.mktemp("target")
    settings = Settings(
        data_dir=root / "var",
        admin_password=ADMIN_PASSWORD,
        # A folder that is not there: the base voice fails at once instead of downloading.
        default_base_model=str(root / "no-such-model"),
        min_free_disk_mb=0,
    )
    with TestClient(create_app(settings)) as client:
        client.admin = login(client, "admin", ADMIN_PASSWORD)
        user = {"username": "alice", "password": USER_PASSWORD, "role": "user"}
        client.post("/api/v1/admin/users", json=user, headers=client.admin).raise_for_status()
        client.user = login(client, "alice", USER_PASSWORD)
        _seed(client, root)
        yield client, settings


def _seed(client: TestClient, root: Path) -> None:
    """One real clip in dataset 'base', so names that exist sit beside the hostile ones."""
    tone = write_tone(root / "seed.wav", seconds=1.5)
    response = client.post(
        "/api/v1/admin/training/upload",
        data={"dataset_name": "base", "transcript": "A seeded clip."},
        files={"audio": ("seed.wav", tone.read_bytes())},
        headers=client.admin,
    )
    response.raise_for_status()


def snapshot(client: TestClient, settings: Settings) -> dict[str, object]:
    """Every stored file's digest and every table's row count."""
    files = {
        str(p.relative_to(settings.data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(settings.data_dir.rglob("*"))
        if p.is_file() and not p.name.endswith(VOLATILE_SUFFIXES)
    }
    with client.app.state.sessionmaker() as session:
        rows = {
            name: session.scalar(select(func.count()).select_from(text(name)))
            for name in sorted(Base.metadata.tables)
            if name not in VOLATILE_TABLES
        }
    return {"files": files, "rows": rows}
