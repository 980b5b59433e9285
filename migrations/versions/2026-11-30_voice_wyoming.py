"""A voice alias's `wyoming` mark: the admin published it on the Wyoming (Home Assistant) server.

Revision ID: 8e2b5c7a1f46
Revises: 4d9b6f2a8c31
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e2b5c7a1f46"
down_revision: str | None = "4d9b6f2a8c31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("voice_aliases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wyoming", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_aliases", schema=None) as batch_op:
        batch_op.drop_column("wyoming")
