"""quiz_keys_shown: which question keys the service has sent to which learner

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-17 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from cohortlab.store.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Once a learner has been shown a question's key, no later answer of theirs to it counts
    (cohortlab.quizzes.policy); this table remembers who has seen which key."""
    op.create_table(
        "quiz_keys_shown",
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("shown_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_keys_shown_quiz_id_quizzes")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quiz_keys_shown_user_id_users")
        ),
        sa.PrimaryKeyConstraint(
            "quiz_id", "user_id", "question_id", name=op.f("pk_quiz_keys_shown")
        ),
    )


def downgrade() -> None:
    op.drop_table("quiz_keys_shown")
