"""review_outcomes: peer review outcomes (aggregation, overrides, exclusions, helpfulness, flags)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-16 09:00:00
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved in the chain; filled in by the slice that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
