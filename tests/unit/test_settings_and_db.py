"""Settings refuse unsafe values; migrations build exactly the tables the models declare."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import inspect, text

import voicesmith.auth.audit  # noqa: F401
import voicesmith.auth.models  # noqa: F401
import voicesmith.datasets.models  # noqa: F401
import voicesmith.synthesis.models  # noqa: F401
import voicesmith.training.models  # noqa: F401
from voicesmith.config import Settings
from voicesmith.db import Base, make_engine, run_migrations


@pytest.mark.parametrize("password", ["changeme", "admin", "short"])
def test_default_or_short_admin_password_is_refused(tmp_path, password):
    with pytest.raises(ValidationError, match="VOICESMITH_ADMIN_PASSWORD"):
        Settings(data_dir=tmp_path, admin_password=password)


def test_env_selects_database_and_defaults_to_sqlite_in_data_dir(tmp_path, monkeypatch):
    assert Settings(data_dir=tmp_path).resolved_database_url == (
        f"sqlite:///{tmp_path / 'voicesmith.db'}"
    )
    monkeypatch.setenv("VOICESMITH_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings(data_dir=tmp_path).resolved_database_url == "postgresql+psycopg://u@h/db"


def test_migrations_match_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    run_migrations(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert "alembic_version" in inspect(engine).get_table_names()


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
