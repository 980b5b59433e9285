"""Clip statuses and ASR results (transcript source, recognised text, confidence, CER),
and long-recording imports.

Revision ID: 3f8a2c6e9b14
Revises: 7c3e91b2d4a6
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f8a2c6e9b14"
down_revision: str | None = "7c3e91b2d4a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="ready", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "transcript_source", sa.String(length=8), server_default="user", nullable=False
            )
        )
        batch_op.add_column(sa.Column("asr_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("asr_confidence", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("cer", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("asr_detail", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_clips_status"), ["status"], unique=False)
    op.create_table(
        "long_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_name", sa.String(length=64), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("source_path", sa.String(length=1024), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("clips", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_long_imports")),
    )
    op.create_index(
        op.f("ix_long_imports_dataset_name"), "long_imports", ["dataset_name"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_long_imports_dataset_name"), table_name="long_imports")
    op.drop_table("long_imports")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clips_status"))
        for name in ("asr_detail", "cer", "asr_confidence", "asr_text", "transcript_source"):
            batch_op.drop_column(name)
        batch_op.drop_column("status")
