"""Fixtures shared by the unit tests (ours are prefixed ``cl_``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cohortlab.store.db import connect
from cohortlab.store.db import upgrade as upgrade_db
from sqlalchemy import Engine


@pytest.fixture(scope="module")
def cl_quiz_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated SQLite database for one test module's quiz world."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('quizzes')) / 'cohortlab.sqlite'}"
    upgrade_db(url)
    engine = connect(url)
    yield engine
    engine.dispose()
