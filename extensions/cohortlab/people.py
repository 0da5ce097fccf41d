"""People the service has seen: a stable row per hub user for later tables to reference."""

from __future__ import annotations

from sqlalchemy import exc
from sqlalchemy.orm import Session, sessionmaker

from .store.db import session_scope
from .store.models import User, utcnow


def record_seen(factory: sessionmaker[Session], name: str) -> int:
    """Create or touch the row for ``name``; returns its id.

    Two requests of a new user may race to insert; the loser's unique-constraint
    error is answered by reading the winner's row, so the call never fails for it.
    """
    for _attempt in range(2):
        try:
            with session_scope(factory) as session:
                user = User.find(session, name)
                if user is None:
                    user = User(name=name)
                    session.add(user)
                    session.flush()
                else:
                    user.last_seen_at = utcnow()
                return user.id
        except exc.IntegrityError:
            continue
    raise RuntimeError(f"could not record user {name!r}")
