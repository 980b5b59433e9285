"""Private PostgreSQL and Redis servers for the `scale` tests, started once per session."""

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.scale.services import Postgres, Redis, ensure_packages
from voicesmith.app import create_app
from voicesmith.config import Settings

_databases = itertools.count(1)
# Fast heartbeats so a lost worker is found in seconds, not the minute of production, and
# a queue sweep every few seconds instead of every minute.
SWEEP_SECONDS = 3
HEARTBEAT_ENV = {
    "VOICESMITH_WORKER_HEARTBEAT_SECONDS": "1",
    "VOICESMITH_WORKER_TIMEOUT_SECONDS": "6",
    "VOICESMITH_QUEUE_SWEEP_SECONDS": str(SWEEP_SECONDS),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder needs the servers: mark it `scale`."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.scale)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A private PostgreSQL cluster for the session."""
    _require_packages()
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    """A private redis-server for the session."""
    _require_packages()
    server = Redis().start()
    yield server
    server.stop()


def _require_packages() -> None:
    """Install the servers if we can; fail loudly (not skip) when we cannot."""
    problem = ensure_packages()
    if problem:
        pytest.fail(problem)


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """A fresh, empty database for one test."""
    return postgres.create_database(f"voicesmith_{os.getpid()}_{next(_databases)}")


@pytest.fixture
def redis_url(redis_server: Redis) -> str:
    """An emptied Redis database for one test."""
    url = redis_server.url(next(_databases) % 16)
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def scale_settings(tmp_path: Path, pg_url: str, redis_url: str) -> Settings:
    """Settings on Postgres and Redis, with the data dir in tmp_path."""
    return Settings(
        data_dir=tmp_path / "var",
        database_url=pg_url,
        queue_url=redis_url,
        admin_password=ADMIN_PASSWORD,
        worker_heartbeat_seconds=1,
        worker_timeout_seconds=6,
        queue_sweep_seconds=SWEEP_SECONDS,
    )


@pytest.fixture
def scale_client(scale_settings: Settings) -> Iterator[TestClient]:
    """An API (no worker) on Postgres and Redis that has run its startup."""
    with TestClient(create_app(scale_settings)) as client:
        yield client


def scale_env(settings: Settings) -> dict[str, str]:
    """The environment for `voicesmith` processes that share these servers."""
    return {
        **os.environ,
        **HEARTBEAT_ENV,
        "VOICESMITH_DATABASE_URL": settings.database_url or "",
        "VOICESMITH_QUEUE_URL": settings.queue_url or "",
        "VOICESMITH_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
