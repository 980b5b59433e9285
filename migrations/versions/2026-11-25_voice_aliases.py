"""Voice aliases: names for completed jobs.

Revision ID: 5957e7d5861d
Revises: 3315db9c381b
Create Date: 2026-11-25 14:20:22.069014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5957e7d5861d"
down_revision: str | None = "3315db9c381b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_aliases",
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.String(length=96), nullable=False),
        sa.Column("checkpoint", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_voice_aliases")),
    )
    with op.batch_alter_table("voice_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_aliases_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("voice_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_aliases_job_id"))

    op.drop_table("voice_aliases")
