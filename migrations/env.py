"""Alembic environment: runs on the connection db.run_migrations hands it."""

from alembic import context
from sqlalchemy import create_engine

import voicesmith.auth.audit  # noqa: F401  (registers tables for autogenerate)
import voicesmith.auth.models  # noqa: F401
import voicesmith.datasets.models  # noqa: F401
import voicesmith.synthesis.models  # noqa: F401
import voicesmith.training.models  # noqa: F401
import voicesmith.transcripts.models  # noqa: F401
from voicesmith.db import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as conn:
        _run(conn)
