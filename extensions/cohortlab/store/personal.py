"""Rows that hold one person's exception to a rule of one thing (a quiz's later closing time,
a review round's later due date): found, made or removed the same way for every kind."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from .models import User

T = TypeVar("T")


def find_for(
    session: Session, model: type[T], owner: InstrumentedAttribute[int], owner_id: int, user_id: int
) -> T | None:
    return session.scalars(
        select(model).where(owner == owner_id, model.user_id == user_id)  # type: ignore[attr-defined]
    ).one_or_none()


def upsert_for(
    session: Session,
    model: type[T],
    owner: InstrumentedAttribute[int],
    owner_id: int,
    user_id: int,
    **values: Any,
) -> T:
    """The person's row for ``owner_id``, created if missing, with ``values`` set."""
    row = find_for(session, model, owner, owner_id, user_id)
    if row is None:
        row = model(**{owner.key: owner_id, "user_id": user_id})
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    return row


def remove_for(
    session: Session, model: type[Any], owner: InstrumentedAttribute[int], owner_id: int, name: str
) -> bool:
    """Delete the named person's row for ``owner_id``; False when there was none."""
    user = User.find(session, name)
    row = find_for(session, model, owner, owner_id, user.id) if user else None
    if row is None:
        return False
    session.delete(row)
    return True
