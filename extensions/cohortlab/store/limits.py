"""Per-person limits counted in the database, so every service replica sees the same counts.

Two tables:

- ``write_counts``: how many writes each person made in the current fixed window (one row per
  person and window, bumped with an upsert in the transaction of the write itself, so a write
  that is refused or rolled back is not counted and a counted write is never lost);
- ``open_streams``: each open event stream (WebSocket) with the replica holding it. A replica
  refreshes ``seen_at`` on its own rows; rows of a replica that died without closing its
  streams stop counting once ``seen_at`` is older than :data:`STREAM_STALE_SECONDS`, and are
  removed by the next replica that opens a stream for that person.

The rules (which limit applies, what the refusal says) are in :mod:`cohortlab.service.limits`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, UTCDateTime, utcnow

#: a replica refreshes its streams' seen_at this often
STREAM_REFRESH_SECONDS = 60.0
#: a stream not refreshed for this long belongs to a replica that is gone
STREAM_STALE_SECONDS = 3 * STREAM_REFRESH_SECONDS


class WriteCount(Base):
    """Writes one person made in one window (``window_start``: epoch seconds)."""

    __tablename__ = "write_counts"

    user_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class OpenStream(Base):
    """An event stream a replica holds open for a person."""

    __tablename__ = "open_streams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(255), index=True)
    replica: Mapped[str] = mapped_column(String(64), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def count_write(session: Session, user_name: str, window: int) -> int:
    """Add one write to ``user_name``'s count in ``window``; the count including it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(WriteCount).values(user_name=user_name, window_start=window, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[WriteCount.user_name, WriteCount.window_start],
        set_={"count": WriteCount.count + 1},
    ).returning(WriteCount.count)
    count = int(session.execute(statement).scalar_one())
    if count == 1:  # a person's first write in a window: their old windows go
        session.execute(
            delete(WriteCount).where(
                WriteCount.user_name == user_name, WriteCount.window_start < window
            )
        )
    return count


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
