"""discussion indexes for the hot paths: posting-rate checks and a person's follows

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:10:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # check_post_rate counts one person's recent posts on every post
    op.create_index("ix_posts_author_created", "posts", ["author_id", "created_at"])
    # listing threads asks which of them the viewer follows
    op.create_index("ix_thread_follows_user", "thread_follows", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_thread_follows_user", table_name="thread_follows")
    op.drop_index("ix_posts_author_created", table_name="posts")
