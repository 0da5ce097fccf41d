"""review_outcomes: peer review outcomes (aggregation, overrides, exclusions, helpfulness, flags)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-16 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from cohortlab.store.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _users(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=f"fk_{table}_{column}_users")


def _round(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["round_id"], ["review_rounds.id"], name=f"fk_{table}_round_id_review_rounds"
    )


def _review(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["review_id"], ["reviews.id"], name=f"fk_{table}_review_id_reviews"
    )


def _submission(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["submission_id"],
        ["review_submissions.id"],
        name=f"fk_{table}_submission_id_review_submissions",
    )


def upgrade() -> None:
    with op.batch_alter_table("review_rounds") as batch:
        batch.add_column(
            sa.Column("method", sa.String(length=10), server_default="median", nullable=False)
        )
    op.create_table(
        "review_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=400), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        _round("review_overrides"),
        _submission("review_overrides"),
        _users("review_overrides", "set_by"),
        sa.PrimaryKeyConstraint("id", name="pk_review_overrides"),
        sa.UniqueConstraint("submission_id", "criterion", name="uq_review_overrides_item"),
    )
    op.create_index("ix_review_overrides_round_id", "review_overrides", ["round_id"])
    op.create_table(
        "review_exclusions",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded_by", sa.Integer(), nullable=False),
        sa.Column("excluded_at", UTCDateTime(), nullable=False),
        _review("review_exclusions"),
        _round("review_exclusions"),
        _users("review_exclusions", "excluded_by"),
        sa.PrimaryKeyConstraint("review_id", name="pk_review_exclusions"),
    )
    op.create_index("ix_review_exclusions_round_id", "review_exclusions", ["round_id"])
    op.create_table(
        "review_ratings",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("rated_by", sa.Integer(), nullable=False),
        sa.Column("helpfulness", sa.Integer(), nullable=False),
        sa.Column("rated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "helpfulness BETWEEN 1 AND 5", name="ck_review_ratings_helpfulness_range"
        ),
        _review("review_ratings"),
        _round("review_ratings"),
        _users("review_ratings", "rated_by"),
        sa.PrimaryKeyConstraint("review_id", name="pk_review_ratings"),
    )
    op.create_index("ix_review_ratings_round_id", "review_ratings", ["round_id"])
    op.create_table(
        "review_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("flagged_by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        _review("review_flags"),
        _round("review_flags"),
        _users("review_flags", "flagged_by"),
        _users("review_flags", "resolved_by"),
        sa.PrimaryKeyConstraint("id", name="pk_review_flags"),
        sa.UniqueConstraint("review_id", "flagged_by", name="uq_review_flags_once"),
    )
    op.create_index("ix_review_flags_round", "review_flags", ["round_id", "resolved_at"])
    op.create_table(
        "review_autograde",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("max_total", sa.Float(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _submission("review_autograde"),
        sa.PrimaryKeyConstraint("submission_id", name="pk_review_autograde"),
    )


def downgrade() -> None:
    op.drop_table("review_autograde")
    op.drop_index("ix_review_flags_round", table_name="review_flags")
    op.drop_table("review_flags")
    op.drop_index("ix_review_ratings_round_id", table_name="review_ratings")
    op.drop_table("review_ratings")
    op.drop_index("ix_review_exclusions_round_id", table_name="review_exclusions")
    op.drop_table("review_exclusions")
    op.drop_index("ix_review_overrides_round_id", table_name="review_overrides")
    op.drop_table("review_overrides")
    with op.batch_alter_table("review_rounds") as batch:
        batch.drop_column("method")
