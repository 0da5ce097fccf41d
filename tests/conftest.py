"""Fixtures shared by every layer. Ours are prefixed ``cl_``."""

from __future__ import annotations

import fcntl
import os
import subprocess
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers.browser import CHROMIUM, Chromium
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


#: Test workers (pytest-xdist) share these two locks: every test holds ``_RUN`` shared while
#: it runs (its fixtures' set-up and tear-down included), a test marked ``exclusive`` holds
#: it alone. ``_GATE`` keeps a waiting exclusive test from being starved: while it waits,
#: no other test starts.
_GATE = Path("/tmp/cohortlab-tests-gate.lock")
_RUN = Path("/tmp/cohortlab-tests-run.lock")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    alone = item.get_closest_marker("exclusive") is not None
    with _GATE.open("a") as gate, _RUN.open("a") as run:
        fcntl.flock(gate, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        fcntl.flock(run, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(run, fcntl.LOCK_UN)
            fcntl.flock(gate, fcntl.LOCK_UN)


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


def _ensure_chromium() -> None:
    """Install Debian's Chromium when missing (make test does this too)."""
    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and only root can apt-get install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)


@pytest.fixture(scope="session")
def cl_chromium_process() -> Iterator[Chromium]:
    """Debian's Chromium, started once for the whole run (tests/helpers/browser.py)."""
    _ensure_chromium()
    chromium = Chromium()
    try:
        yield chromium
    finally:
        chromium.stop()


@pytest.fixture(scope="module")
def cl_browser(cl_chromium_process: Chromium) -> Iterator[object]:
    """The run's Chromium, connected to for this module. Module-scoped: Playwright's sync
    API keeps an asyncio loop running while it is open, which would stop pytest-asyncio's
    tests that come after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.connect_over_cdp(cl_chromium_process.endpoint)
        try:
            yield browser
        finally:
            for context in browser.contexts[1:]:  # [0] is the process's own default context
                context.close()
            browser.close()  # disconnects; the process stays for the next module
