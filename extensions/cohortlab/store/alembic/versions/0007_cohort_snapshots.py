"""cohort_snapshots: cohort workspace snapshots and templates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16 09:00:00
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved in the chain; filled in by the slice that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
