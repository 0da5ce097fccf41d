"""workspace_activity: cohort workspace activity (cell edits, runs, presence)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from cohortlab.store.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Contribution counts per person, cohort and notebook of a workspace."""
    op.create_table(
        "workspace_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course", sa.String(255), nullable=False),
        sa.Column("cohort", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("notebook", sa.String(1024), nullable=False),
        sa.Column("edits", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_workspace_activity_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workspace_activity"),
        sa.UniqueConstraint(
            "course", "cohort", "user_id", "notebook", name="uq_workspace_activity_course"
        ),
    )
    op.create_index(
        "ix_workspace_activity_user_id", "workspace_activity", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_workspace_activity_user_id", table_name="workspace_activity")
    op.drop_table("workspace_activity")
