"""Voices belong to someone: a job's owner, and who each voice name is shared with.

Every voice that exists before this migration, each job id and each alias, is shared with
everyone, so nothing breaks for current users; a voice made afterwards has no row, which
means private.

Revision ID: a3f7d1c9e582
Revises: 8e2b5c7a1f46
Create Date: 2026-11-30 18:45:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "a3f7d1c9e582"
down_revision: str | None = "8e2b5c7a1f46"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=64), nullable=True))
    sharing = op.create_table(
        "voice_sharing",
        sa.Column("voice", sa.String(length=96), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("voice", name=op.f("pk_voice_sharing")),
    )
    op.create_table(
        "voice_shares",
        sa.Column("voice", sa.String(length=96), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_voice_shares_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voice"],
            ["voice_sharing.voice"],
            name=op.f("fk_voice_shares_voice_voice_sharing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("voice", "user_id", name=op.f("pk_voice_shares")),
    )
    with op.batch_alter_table("voice_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_shares_user_id"), ["user_id"], unique=False)
    _share_existing_voices(sharing)


def _share_existing_voices(sharing: sa.Table) -> None:
    """Every job id and alias there is now, shared with everyone as before."""
    bind = op.get_bind()
    names = {row[0] for row in bind.execute(sa.text("SELECT id FROM jobs"))}
    names |= {row[0] for row in bind.execute(sa.text("SELECT alias FROM voice_aliases"))}
    now = datetime.now(UTC)
    rows = [{"voice": n, "mode": "everyone", "changed_at": now} for n in sorted(names)]
    if rows:
        op.bulk_insert(sharing, rows)


def downgrade() -> None:
    with op.batch_alter_table("voice_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_shares_user_id"))
    op.drop_table("voice_shares")
    op.drop_table("voice_sharing")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("owner")
