"""reviews: peer review rounds, rubric, anonymous submissions, assignments, reviews,
extensions, and the staging area uploads go through

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from cohortlab.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course", sa.String(length=255), nullable=False),
        sa.Column("assignment", sa.String(length=255), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("lease_hours", sa.Float(), nullable=True),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("balance", sa.String(length=10), nullable=False),
        sa.Column("seed", sa.String(length=128), nullable=False),
        sa.Column("names_visible", sa.Boolean(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_review_rounds_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rounds")),
        sa.UniqueConstraint("course", "assignment", name="uq_review_rounds_course_assignment"),
    )
    op.create_table(
        "review_uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("course", sa.String(length=255), nullable=False),
        sa.Column("assignment", sa.String(length=255), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("seed", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_review_uploads_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_uploads")),
    )
    op.create_index("ix_review_uploads_assignment", "review_uploads", ["course", "assignment"])
    op.create_table(
        "review_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("notebook", sa.String(length=255), nullable=True),
        sa.Column("grade_id", sa.String(length=128), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("max_points", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_rounds.id"],
            name=op.f("fk_review_criteria_round_id_review_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_criteria")),
        sa.UniqueConstraint("round_id", "key", name="uq_review_criteria_key"),
    )
    op.create_table(
        "review_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_review_extensions_granted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_rounds.id"],
            name=op.f("fk_review_extensions_round_id_review_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_review_extensions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_extensions")),
        sa.UniqueConstraint("round_id", "user_id", name="uq_review_extensions_person"),
    )
    op.create_table(
        "review_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_review_submissions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_rounds.id"],
            name=op.f("fk_review_submissions_round_id_review_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_review_submissions_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_submissions")),
        sa.UniqueConstraint("round_id", "author_id", name="uq_review_submissions_author"),
        sa.UniqueConstraint("round_id", "number", name="uq_review_submissions_number"),
    )
    op.create_table(
        "review_upload_items",
        sa.Column("upload_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["review_uploads.id"],
            name=op.f("fk_review_upload_items_upload_id_review_uploads"),
        ),
        sa.PrimaryKeyConstraint("upload_id", "author", "name", name=op.f("pk_review_upload_items")),
    )
    op.create_table(
        "review_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("extra", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("expired_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_review_assignments_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_rounds.id"],
            name=op.f("fk_review_assignments_round_id_review_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["review_submissions.id"],
            name=op.f("fk_review_assignments_submission_id_review_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignments")),
        sa.UniqueConstraint("submission_id", "reviewer_id", name="uq_review_assignments_pair"),
    )
    op.create_index(
        "ix_review_assignments_reviewer", "review_assignments", ["reviewer_id", "state"]
    )
    op.create_index("ix_review_assignments_round", "review_assignments", ["round_id", "state"])
    op.create_table(
        "review_notebooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["review_submissions.id"],
            name=op.f("fk_review_notebooks_submission_id_review_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_notebooks")),
        sa.UniqueConstraint("submission_id", "name", name="uq_review_notebooks_name"),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("cell_comments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignments.id"],
            name=op.f("fk_reviews_assignment_id_review_assignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_reviews_assignment_id")),
    )


def downgrade() -> None:
    op.drop_table("reviews")
    op.drop_table("review_notebooks")
    op.drop_index("ix_review_assignments_round", table_name="review_assignments")
    op.drop_index("ix_review_assignments_reviewer", table_name="review_assignments")
    op.drop_table("review_assignments")
    op.drop_table("review_upload_items")
    op.drop_table("review_submissions")
    op.drop_table("review_extensions")
    op.drop_table("review_criteria")
    op.drop_index("ix_review_uploads_assignment", table_name="review_uploads")
    op.drop_table("review_uploads")
    op.drop_table("review_rounds")
