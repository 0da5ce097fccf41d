"""cohort_snapshots: cohort workspace snapshots and templates

What an archived cohort workspace held (``cohortlab.store.cohort_snapshots``); templates
are written straight into workspaces and need no table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from cohortlab.store.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cohort_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course", sa.String(length=255), nullable=False),
        sa.Column("cohort", sa.String(length=255), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("total_bytes", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("taken_by", sa.Integer(), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["taken_by"], ["users.id"], name=op.f("fk_cohort_snapshots_taken_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_snapshots")),
    )
    op.create_index("ix_cohort_snapshots_cohort", "cohort_snapshots", ["course", "cohort"])
    op.create_table(
        "cohort_snapshot_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("mimetype", sa.String(length=255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("last_modified", UTCDateTime(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["cohort_snapshots.id"],
            name=op.f("fk_cohort_snapshot_files_snapshot_id_cohort_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_snapshot_files")),
        sa.UniqueConstraint("snapshot_id", "path", name="uq_cohort_snapshot_files_snapshot_id"),
    )
    op.create_index(
        op.f("ix_cohort_snapshot_files_snapshot_id"), "cohort_snapshot_files", ["snapshot_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_cohort_snapshot_files_snapshot_id"), table_name="cohort_snapshot_files")
    op.drop_table("cohort_snapshot_files")
    op.drop_index("ix_cohort_snapshots_cohort", table_name="cohort_snapshots")
    op.drop_table("cohort_snapshots")
