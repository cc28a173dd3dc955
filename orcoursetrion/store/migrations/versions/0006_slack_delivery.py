"""requests: plan notes, confirm warning, the result announced; Slack deliveries seen

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("confirm_warning", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("announced", sa.String(length=60), nullable=True))
    op.create_table(
        "slack_deliveries",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("slack_deliveries")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("announced")
        batch_op.drop_column("confirm_warning")
        batch_op.drop_column("notes")
