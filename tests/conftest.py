"""Fixtures shared by every layer. Ours are prefixed ``cl_``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers.hub import Hub, start_hub, stop_hub

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("COHORTLAB_TEST_DB_URL", "")


def _backends() -> list[object]:
    backends: list[object] = ["sqlite"]
    backends.append(
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="COHORTLAB_TEST_DB_URL is not set"),
            ],
        )
    )
    return backends


@pytest.fixture(params=_backends())
def cl_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend: a fresh SQLite file, or a fresh PostgreSQL schema
    database created inside the server named by COHORTLAB_TEST_DB_URL and dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cohortlab.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("COHORTLAB_TEST_DB_URL is not set")
    name = f"cl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    if admin.dialect.driver != "psycopg":
        admin.dispose()
        admin = create_engine(
            make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def cl_hub() -> Iterator[Hub]:
    """One real hub (root, system users, npm proxy, the service) for the whole session."""
    if os.geteuid() != 0:
        pytest.skip("the one-machine hub runs servers as system users, which needs root")
    hub = start_hub()
    try:
        yield hub
    finally:
        stop_hub(hub)
