"""Alembic environment: runs on the connection CohortLab hands it (see store.db.upgrade)."""

from alembic import context
from cohortlab.store import cohort_snapshots as _cohort_snapshots  # noqa: F401  (register tables)
from cohortlab.store import discussions as _discussions  # noqa: F401
from cohortlab.store import limits as _limits  # noqa: F401
from cohortlab.store import quizzes as _quizzes  # noqa: F401
from cohortlab.store import reviews as _reviews  # noqa: F401
from cohortlab.store import workspace_activity as _workspace_activity  # noqa: F401
from cohortlab.store.models import Base
from sqlalchemy import create_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
