"""scheduling: a request's scheduled time; task claims that expire, per-day keys, outcomes

Revision ID: 0005
Revises: 0006
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_for", sa.DateTime(), nullable=True))
    with op.batch_alter_table("scheduled_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("claim_expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.create_index("ix_tasks_request", ["request_id"], unique=False)
        batch_op.create_index("ux_tasks_key", ["key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("scheduled_tasks", schema=None) as batch_op:
        batch_op.drop_index("ux_tasks_key")
        batch_op.drop_index("ix_tasks_request")
        batch_op.drop_column("note")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("claim_expires_at")
        batch_op.drop_column("key")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("scheduled_for")
