"""Clips remember the SHA-256 of their original upload, to spot duplicates.

Revision ID: 10708a987b1f
Revises: 5957e7d5861d
Create Date: 2026-11-25 14:51:54.777962
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "10708a987b1f"
down_revision: str | None = "5957e7d5861d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_clips_content_hash"), ["content_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clips_content_hash"))
        batch_op.drop_column("content_hash")
