"""Storage on every backend: migrations, start-up checks, transactional writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest
from cohortlab.people import record_seen
from cohortlab.store.db import (
    DatabaseError,
    connect,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    session_factory,
    session_scope,
)
from cohortlab.store.db import upgrade as upgrade_db
from cohortlab.store.models import User
from sqlalchemy import inspect, select


def test_upgrade_creates_the_schema_and_is_idempotent(cl_db_url: str) -> None:
    before, after = upgrade_db(cl_db_url)
    assert (before, after) == (None, head_revision())
    assert upgrade_db(cl_db_url) == (head_revision(), head_revision())
    engine = make_engine(cl_db_url)
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()


def test_every_migration_downgrades_cleanly(cl_db_url: str) -> None:
    upgrade_db(cl_db_url)
    downgrade(cl_db_url, "base")
    engine = make_engine(cl_db_url)
    assert current_revision(engine) is None
    assert "users" not in inspect(engine).get_table_names()
    engine.dispose()


def test_start_up_refuses_an_empty_database_naming_upgrade_db(cl_db_url: str) -> None:
    with pytest.raises(DatabaseError, match="cohortlab upgrade-db"):
        connect(cl_db_url)


def test_start_up_refuses_an_older_schema_naming_upgrade_db(cl_db_url: str) -> None:
    upgrade_db(cl_db_url)
    engine = make_engine(cl_db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    engine.dispose()
    with pytest.raises(DatabaseError, match=r"revision 0000 .*cohortlab upgrade-db"):
        connect(cl_db_url)


def test_current_schema_connects(cl_db_url: str) -> None:
    upgrade_db(cl_db_url)
    connect(cl_db_url).dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "not a valid SQLAlchemy URL"),
        ("nosuchdb://x/y", "cannot use database URL"),
        ("sqlite:////nonexistent-folder/x.sqlite", "does not exist"),
        ("postgresql://u:secret@127.0.0.1:1/db", "cannot connect to database"),
    ],
)
def test_bad_database_urls_give_one_clear_line(url: str, expected: str) -> None:
    with pytest.raises(DatabaseError, match=expected) as info:
        connect(url)
    message = str(info.value)
    assert "\n" not in message
    assert "secret" not in message


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_record_seen_creates_once_and_touches_after(cl_db_url: str) -> None:
    upgrade_db(cl_db_url)
    engine = connect(cl_db_url)
    factory = session_factory(engine)
    first = record_seen(factory, "ada")
    assert record_seen(factory, "ada") == first
    with session_scope(factory) as s:
        user = s.scalars(select(User).where(User.name == "ada")).one()
        assert user.last_seen_at >= user.first_seen_at
        assert user.first_seen_at.tzinfo is UTC
    engine.dispose()


def test_concurrent_first_sight_of_a_user_makes_one_row(cl_db_url: str) -> None:
    upgrade_db(cl_db_url)
    engine = connect(cl_db_url)
    factory = session_factory(engine)
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda _: record_seen(factory, "ben"), range(16)))
    assert len(ids) == 1
    with session_scope(factory) as s:
        assert s.scalars(select(User).where(User.name == "ben")).all()[0].id in ids
    engine.dispose()


def test_a_failed_transaction_writes_nothing(cl_db_url: str) -> None:
    upgrade_db(cl_db_url)
    engine = connect(cl_db_url)
    factory = session_factory(engine)
    with pytest.raises(RuntimeError), session_scope(factory) as s:
        s.add(User(name="cy"))
        s.flush()
        raise RuntimeError("boom after the insert")
    with session_scope(factory) as s:
        assert User.find(s, "cy") is None
    engine.dispose()


def test_models_and_migrations_agree(cl_db_url: str) -> None:
    """Every model change has its Alembic revision: autogenerate finds nothing to add."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from cohortlab.store import (  # noqa: F401  (registers the tables)
        cohort_snapshots,
        discussions,
        limits,
        quizzes,
        reviews,
        workspace_activity,
    )
    from cohortlab.store.models import Base

    upgrade_db(cl_db_url)
    engine = make_engine(cl_db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
