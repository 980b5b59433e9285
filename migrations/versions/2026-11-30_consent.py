"""Consent, verified: challenges to read aloud, the audit of each recording, job overrides.

Neither table refers to the datasets table: the audit of a dataset's consent outlives the
dataset's deletion.

Revision ID: c0e5a7b3d914
Revises: c5e8a2d4b917
Create Date: 2026-11-30 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0e5a7b3d914"
down_revision: str | None = "c5e8a2d4b917"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_override_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("consent_override_by", sa.String(length=64), nullable=True))
    op.create_table(
        "consent_challenges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dataset_name", sa.String(length=64), nullable=False),
        sa.Column("speaker_name", sa.String(length=100), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("phrase", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_challenges")),
    )
    with op.batch_alter_table("consent_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_challenges_dataset_name"), ["dataset_name"], unique=False
        )
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("challenge_id", sa.String(length=32), nullable=True),
        sa.Column("speaker_name", sa.String(length=100), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("heard", sa.Text(), nullable=True),
        sa.Column("cer", sa.Float(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("recording", sa.String(length=255), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("job_id", sa.String(length=96), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_records_dataset_name"), ["dataset_name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_dataset_name"))
    op.drop_table("consent_records")
    with op.batch_alter_table("consent_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_challenges_dataset_name"))
    op.drop_table("consent_challenges")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("consent_override_by")
        batch_op.drop_column("consent_override_reason")
