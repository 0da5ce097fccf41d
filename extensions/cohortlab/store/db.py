"""Engine set-up and start-up checks for the service's database.

Start-up must fail with one clear line, not a traceback, when the URL is wrong,
the database is unreachable or the schema is older than the code; the CLI
prints :class:`DatabaseError` messages as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ALEMBIC_DIR = Path(__file__).parent / "alembic"
SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseError(Exception):
    """A database problem stated in one line a person can act on."""


def redact(url: str) -> str:
    """The URL without its password, safe for logs and error lines."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable URL>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; busy_timeout makes a second
    # writer wait instead of failing with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()
    # pysqlite opens transactions itself, only before a write and never for a SAVEPOINT,
    # which breaks nested transactions (store.batching runs each request's transaction in
    # one). Turn that off and let SQLAlchemy say BEGIN (_sqlite_begin), as its docs advise.
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front, so a transaction that reads and then writes
    # waits its turn in the busy handler instead of failing "database is locked" when
    # another connection wrote in between. Reads that must never wait (on the event loop)
    # use read_only_factory(): a deferred BEGIN, which never blocks in WAL mode.
    mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` or raise :class:`DatabaseError` saying why not."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseError(
            f"database URL {url!r} is not a valid SQLAlchemy URL "
            "(expected e.g. sqlite:////var/lib/cohortlab/cohortlab.sqlite or "
            "postgresql+psycopg://user@host/db)"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() != "sqlite":
        # a server may have closed an idle connection; a local file cannot
        kwargs["pool_pre_ping"] = True
    else:
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise DatabaseError(
                    f"cannot open database {redact(url)}: folder {folder} does not exist"
                )
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    try:
        engine = create_engine(parsed, **kwargs)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as e:
        raise DatabaseError(f"cannot use database URL {redact(url)}: {e}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _reason(e: exc.DBAPIError | exc.OperationalError) -> str:
    orig = getattr(e, "orig", None) or e
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def connect(url: str) -> Engine:
    """Open the database and refuse to go on unless its schema is the code's.

    Raises :class:`DatabaseError` naming ``cohortlab upgrade-db`` when that is the fix.
    """
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    except exc.DBAPIError as e:
        engine.dispose()
        raise DatabaseError(f"cannot connect to database {redact(url)}: {_reason(e)}") from None
    head = head_revision()
    if current != head:
        engine.dispose()
        state = "is empty" if current is None else f"is at revision {current}"
        raise DatabaseError(
            f"database {redact(url)} {state} but this CohortLab needs revision {head}; "
            "run `cohortlab upgrade-db` (with the same --db-url) first"
        )
    return engine


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the schema to ``revision``; returns (before, after)."""
    from alembic import command

    engine = make_engine(url)
    try:
        before = current_revision(engine)
        cfg = alembic_config(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return before, current_revision(engine) or ""
    except exc.DBAPIError as e:
        raise DatabaseError(f"cannot upgrade database {redact(url)}: {_reason(e)}") from None
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    engine = make_engine(url)
    try:
        cfg = alembic_config(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_only_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads that must not wait for the writer (on SQLite, a deferred BEGIN:
    a snapshot that never takes a lock). Writing through one may fail "database is locked"."""
    return sessionmaker(
        bind=engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False
    )


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error — never half a write."""
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
