"""step journal: evidence, attempt fence, created repos' GitHub ids

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("op", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("github_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_steps_github_id", ["op", "github_id"], unique=False)
    # Rows of the earlier journal said "started" for a write of unknown outcome: the same meaning.
    op.execute("UPDATE request_steps SET state = 'applying' WHERE state = 'started'")


def downgrade() -> None:
    with op.batch_alter_table("request_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_steps_github_id")
        batch_op.drop_column("attempt")
        batch_op.drop_column("github_id")
        batch_op.drop_column("op")
