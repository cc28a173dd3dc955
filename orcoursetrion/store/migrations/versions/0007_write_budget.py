"""write budget: one row per GitHub account (GCRA state and pause), its reserved sends

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_budgets",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False, server_default="0"),
        sa.Column("paused_until", sa.Float(), nullable=False, server_default="0"),
        sa.Column("pause_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "write_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_write_sends_key_at", "write_sends", ["key", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_write_sends_key_at", table_name="write_sends")
    op.drop_table("write_sends")
    op.drop_table("write_budgets")
