"""Speaker embeddings of clips, and each dataset's speaker centroid.

Revision ID: 4d9b6f2a8c31
Revises: c4a9e2f17d30
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d9b6f2a8c31"
down_revision: str | None = "c4a9e2f17d30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaker_centroid", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaker_embedding", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("speaker_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("speaker_detail")
        batch_op.drop_column("speaker_embedding")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_column("speaker_centroid")
