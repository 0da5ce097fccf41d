"""workspace_activity: cohort workspace activity (cell edits, runs, presence)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16 09:00:00
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved in the chain; filled in by the slice that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
