"""Clip quality metrics and flags, originals, per-dataset clean-up and the stored report.

Revision ID: 7c3e91b2d4a6
Revises: 10708a987b1f
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e91b2d4a6"
down_revision: str | None = "10708a987b1f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METRICS = (
    "peak_dbfs",
    "loudness_lufs",
    "clipped_ratio",
    "leading_silence",
    "trailing_silence",
    "snr_db",
    "speech_seconds",
)


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trim_silence", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("normalize_loudness", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("target_lufs", sa.Float(), server_default="-23.0", nullable=False)
        )
        batch_op.add_column(sa.Column("report", sa.Text(), nullable=True))
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_file", sa.String(length=160), nullable=True))
        for name in METRICS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("flags", sa.Text(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        for name in ("flags", *METRICS, "original_file"):
            batch_op.drop_column(name)
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        for name in ("report", "target_lufs", "normalize_loudness", "trim_silence"):
            batch_op.drop_column(name)
