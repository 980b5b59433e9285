"""Fencing: jobs.attempt counts the claims of a job, and each claim's writes carry it.

A worker that claims a job increments it and writes it into the job folder; a training
process or worker whose number is no longer the job's stops writing (docs/RELIABILITY.md).
Jobs that exist before this migration start at 0: their next claim is attempt 1.

Revision ID: c4e8a2f61b93
Revises: c0e5a7b3d914
Create Date: 2026-11-30 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e8a2f61b93"
down_revision: str | None = "c0e5a7b3d914"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("attempt")
