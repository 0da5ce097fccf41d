"""Per-person limits counted in the database, so every service replica sees the same counts.

Two tables:

- ``write_budgets``: when each person's next write is due (one row per person, changed in the
  transaction of the write itself, so a write that is refused or rolled back costs nothing and
  a counted write is never lost);
- ``open_streams``: each open event stream (WebSocket) with the replica holding it. A replica
  refreshes ``seen_at`` on its own rows; rows of a replica that died without closing its
  streams stop counting once ``seen_at`` is older than :data:`STREAM_STALE_SECONDS`, and are
  removed by the next replica that opens a stream for that person.

The rules (which limit applies, what the refusal says) are in :mod:`cohortlab.service.limits`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    String,
    bindparam,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, UTCDateTime, utcnow

#: a replica refreshes its streams' seen_at this often
STREAM_REFRESH_SECONDS = 60.0
#: a stream not refreshed for this long belongs to a replica that is gone
STREAM_STALE_SECONDS = 3 * STREAM_REFRESH_SECONDS


class WriteBudget(Base):
    """When one person's writes are next due, by the generic cell rate algorithm (GCRA): the
    "theoretical arrival time" of their next write, in epoch seconds; ``admitted``: whether
    the last write asked for was taken (what the one-statement update reports back)."""

    __tablename__ = "write_budgets"

    user_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)
    admitted: Mapped[bool] = mapped_column(Boolean)


class OpenStream(Base):
    """An event stream a replica holds open for a person."""

    __tablename__ = "open_streams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(255), index=True)
    replica: Mapped[str] = mapped_column(String(64), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _spend_statement(dialect: str) -> Any:
    """GCRA as one upsert (``cohortlab.service.limits.admit`` is the same rule in Python): with
    ``cur = max(tat, now)``, a write fits when ``cur - tolerance <= now``, and then ``tat``
    becomes ``cur + interval``; a refused one leaves ``tat`` as it was. One statement, and no
    ORM object: it runs in every write's transaction, where three statements through the ORM
    cost as much as the write itself."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = bindparam("now", type_=Float)
    interval = bindparam("interval", type_=Float)
    tolerance = bindparam("tolerance", type_=Float)
    table = WriteBudget.__table__
    cur = case((table.c.tat > now, table.c.tat), else_=now)
    fits = (cur - tolerance) <= now
    statement = insert(table).values(user_name=bindparam("user_name"), tat=now + interval,
                                     admitted=True)  # fmt: skip
    return statement.on_conflict_do_update(
        index_elements=[table.c.user_name],
        set_={"tat": case((fits, cur + interval), else_=table.c.tat), "admitted": fits},
    ).returning(table.c.tat, table.c.admitted)


_SPEND = {name: _spend_statement(name) for name in ("sqlite", "postgresql")}


def spend_write(
    session: Session, user_name: str, now: float, interval: float, tolerance: float
) -> float | None:
    """Take one write from ``user_name``'s budget: ``None`` if taken, else when the next
    write will fit (nothing changed). On PostgreSQL the row stays locked for the rest of the
    transaction, so replicas taking writes of the same person at once queue up."""
    dialect = session.get_bind().dialect.name
    row = (
        session.connection()
        .execute(
            _SPEND[dialect],
            {"user_name": user_name, "now": now, "interval": interval, "tolerance": tolerance},
        )
        .one()
    )
    return None if row.admitted else float(row.tat) - tolerance


def open_stream(session: Session, user_name: str, replica: str, limit: int) -> int | None:
    """Record a new stream for ``user_name`` unless they hold ``limit`` live ones already;
    its id, or ``None`` when refused. Stale rows (a dead replica's) are dropped first."""
    now = utcnow()
    stale = now - timedelta(seconds=STREAM_STALE_SECONDS)
    session.execute(
        delete(OpenStream).where(OpenStream.user_name == user_name, OpenStream.seen_at < stale)
    )
    held = session.scalar(
        select(func.count()).select_from(OpenStream).where(OpenStream.user_name == user_name)
    )
    if (held or 0) >= limit:
        return None
    row = OpenStream(user_name=user_name, replica=replica, opened_at=now, seen_at=now)
    session.add(row)
    session.flush()
    return row.id


def close_stream(session: Session, stream_id: int) -> None:
    session.execute(delete(OpenStream).where(OpenStream.id == stream_id))


def refresh_streams(session: Session, replica: str) -> None:
    """This replica's streams are still open."""
    session.execute(
        update(OpenStream).where(OpenStream.replica == replica).values(seen_at=utcnow())
    )


def forget_replica(session: Session, replica: str) -> None:
    """A replica stopping: its streams are closed."""
    session.execute(delete(OpenStream).where(OpenStream.replica == replica))
