"""write_budgets and open_streams: per-person limits every service replica agrees on

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:00:00
"""

import sqlalchemy as sa
from alembic import op
from cohortlab.store.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """When each person may write next, and open event streams per person (cohortlab.store.limits)."""
    op.create_table(
        "write_budgets",
        sa.Column("user_name", sa.String(length=255), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.Column("admitted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("user_name", name=op.f("pk_write_budgets")),
    )
    op.create_table(
        "open_streams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=255), nullable=False),
        sa.Column("replica", sa.String(length=64), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_streams")),
    )
    op.create_index(op.f("ix_open_streams_user_name"), "open_streams", ["user_name"])
    op.create_index(op.f("ix_open_streams_replica"), "open_streams", ["replica"])


def downgrade() -> None:
    op.drop_index(op.f("ix_open_streams_replica"), table_name="open_streams")
    op.drop_index(op.f("ix_open_streams_user_name"), table_name="open_streams")
    op.drop_table("open_streams")
    op.drop_table("write_budgets")
