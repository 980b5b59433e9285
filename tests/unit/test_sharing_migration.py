"""The sharing migration: voices that existed before it are shared with everyone, new ones not."""

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.orm import Session

from voicesmith.db import MIGRATIONS_DIR, make_engine, run_migrations
from voicesmith.synthesis import sharing
from voicesmith.synthesis.models import VoiceSharing
from voicesmith.training.models import Job

BEFORE_SHARING = "8e2b5c7a1f46"
JOB = (
    "INSERT INTO jobs (id, dataset_name, status, params, output_dir, cancel_requested, attempts,"
    " created_at, updated_at) VALUES (:id, 'lj', 'completed', '{}', '/x', 0, 0, :t, :t)"
)
ALIAS = (
    "INSERT INTO voice_aliases (alias, job_id, wyoming, created_at, updated_at)"
    " VALUES ('narrator', 'old_job', 1, :t, :t)"
)
PLAIN = sharing.Audience(username="ada", user_id=7, admin=False)


def test_voices_from_before_the_migration_are_shared_with_everyone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, BEFORE_SHARING)
    with engine.begin() as connection:
        now = "2026-11-30 12:00:00.000000"
        connection.execute(text(JOB), {"id": "old_job", "t": now})
        connection.execute(text(ALIAS), {"t": now})
    run_migrations(engine)
    with Session(engine) as session:
        session.add(Job(id="new_job", dataset_name="lj", params={}, output_dir="/y", owner="admin"))
        session.commit()
        modes = {row.voice: row.mode for row in session.query(VoiceSharing)}
        assert modes == {"old_job": "everyone", "narrator": "everyone"}
        assert session.get(Job, "old_job").owner is None
        assert session.get(Job, "new_job").owner == "admin"
        for name in ("old_job", "narrator"):
            assert sharing.may_use(session=session, audience=PLAIN, name=name)
        # A voice made after the migration has no row: private to all but admins.
        assert not sharing.may_use(session=session, audience=PLAIN, name="new_job")
        # Not even to a plain user who took the name of its owner's deleted account.
        heir = sharing.Audience(username="admin", user_id=9, admin=False)
        assert not sharing.may_use(session=session, audience=heir, name="new_job")
        assert sharing.may_use(session=session, audience=sharing.LOCAL, name="new_job")
