"""Follows and notifications: replies, mentions, accepted answers, endorsements.

Recipients never include the actor, and nobody is notified of a thread they may
not see. Notifications carry ids, not text, so an anonymous post is never
attributed through them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import Integer, String, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from ..access import Caller
from ..store.discussions import Notification, Thread, ThreadFollow
from ..store.models import User, UTCDateTime, utcnow
from .visibility import may_be_told, visible_in_any

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._-]{0,254})")


def mentioned_names(body: str) -> set[str]:
    return {m.rstrip(".") for m in MENTION.findall(body)}


def follow(session: Session, thread_id: int, user_id: int) -> None:
    exists = session.get(ThreadFollow, (thread_id, user_id))
    if exists is None:
        session.add(ThreadFollow(thread_id=thread_id, user_id=user_id))


def unfollow(session: Session, thread_id: int, user_id: int) -> None:
    session.execute(
        delete(ThreadFollow).where(
            ThreadFollow.thread_id == thread_id, ThreadFollow.user_id == user_id
        )
    )


def is_following(session: Session, thread_id: int, user_id: int) -> bool:
    return session.get(ThreadFollow, (thread_id, user_id)) is not None


_FOLLOWERS = (
    select(ThreadFollow.user_id, User.name)
    .join(User, User.id == ThreadFollow.user_id)
    .where(ThreadFollow.thread_id == bindparam("thread_id"))
)
_NEW_NOTIFICATIONS = Notification.__table__.insert()


def followers(session: Session, thread_id: int) -> dict[int, str]:
    """The thread's followers: user id -> hub name."""
    return dict(session.connection().execute(_FOLLOWERS, {"thread_id": thread_id}).all())


def may_be_notified(
    thread: Thread, name: str, user_id: int, members: Mapping[str, tuple[bool, Collection[str]]]
) -> bool:
    """Whether someone following ``thread`` is still to hear of it: in the course now
    (``members``, from the hub's groups) and allowed to see it there. A follow outlives
    a removal from the course or a cohort; being told does not."""
    found = members.get(name)
    if found is None:
        return False
    is_staff, cohorts = found
    return may_be_told(
        thread, is_staff=is_staff, cohorts=cohorts, is_author=user_id == thread.author_id
    )


def _notify_followers_statement(*, but_some: bool) -> Any:
    source = select(
        ThreadFollow.user_id,
        bindparam("kind", type_=String()),
        bindparam("course", type_=String()),
        ThreadFollow.thread_id,
        bindparam("post_id", type_=Integer()),
        bindparam("created_at", type_=UTCDateTime()),
    ).where(
        ThreadFollow.thread_id == bindparam("thread_id"),
        ThreadFollow.user_id != bindparam("actor_id"),
    )
    if but_some:
        source = source.where(ThreadFollow.user_id.not_in(bindparam("left", expanding=True)))
    return Notification.__table__.insert().from_select(
        ["user_id", "kind", "course", "thread_id", "post_id", "created_at"], source
    )


_NOTIFY_FOLLOWERS = _notify_followers_statement(but_some=False)
# Some followers may no longer hear of the thread: rare, so the common statement stays free
# of an expanding parameter (rendered anew on every execution).
_NOTIFY_FOLLOWERS_BUT = _notify_followers_statement(but_some=True)


def notify_followers(
    session: Session,
    thread: Thread,
    kind: str,
    followers: Mapping[int, str],
    *,
    actor_id: int,
    post_id: int,
    members: Mapping[str, tuple[bool, Collection[str]]],
) -> list[int]:
    """:func:`notify` for everyone following the thread (``followers``, read in this
    transaction) who may still hear of it (:func:`may_be_notified`), as one INSERT ...
    SELECT: a thread's followers can be the whole course, and a row each built in Python
    was a fifth of a reply's time."""
    left = [u for u, name in followers.items() if not may_be_notified(thread, name, u, members)]
    recipients = sorted(set(followers) - {actor_id} - set(left))
    if recipients:
        params = {
            "kind": kind,
            "course": thread.course,
            "thread_id": thread.id,
            "post_id": post_id,
            "created_at": utcnow(),
            "actor_id": actor_id,
        }
        if left:
            session.connection().execute(_NOTIFY_FOLLOWERS_BUT, {**params, "left": left})
        else:
            session.connection().execute(_NOTIFY_FOLLOWERS, params)
    return recipients


def notify(
    session: Session,
    thread: Thread,
    kind: str,
    user_ids: Iterable[int],
    *,
    actor_id: int,
    post_id: int | None,
) -> list[int]:
    """Create one notification per recipient (actor excluded); returns the recipients."""
    recipients = sorted({u for u in user_ids if u != actor_id})
    if recipients:
        # one multi-row INSERT: a thread's followers can be the whole course
        session.connection().execute(
            _NEW_NOTIFICATIONS,
            [
                {
                    "user_id": user_id,
                    "kind": kind,
                    "course": thread.course,
                    "thread_id": thread.id,
                    "post_id": post_id,
                }
                for user_id in recipients
            ],
        )
    return recipients


def user_ids_by_name(session: Session, names: Iterable[str]) -> dict[str, int]:
    names = sorted(set(names))
    if not names:
        return {}
    rows = session.execute(select(User.name, User.id).where(User.name.in_(names)))
    return {name: uid for name, uid in rows}


def unread_count(session: Session, user_id: int, callers: Collection[Caller]) -> int:
    """The caller's unread notifications about threads they may see now (``callers``: the
    person in each course they are in, from the hub)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .join(Thread, Thread.id == Notification.thread_id)
            .where(
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
                visible_in_any(callers),
            )
        )
        or 0
    )


def list_notifications(
    session: Session,
    user_id: int,
    callers: Collection[Caller],
    *,
    unread_only: bool,
    limit: int = 50,
):
    """The caller's latest notifications about threads they may see now: none about a
    course or cohort they have left, or a thread since hidden from them, can be read."""
    query = (
        select(Notification)
        .join(Thread, Thread.id == Notification.thread_id)
        .where(Notification.user_id == user_id, visible_in_any(callers))
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user_id: int, ids: list[int] | None) -> int:
    """Mark some (or, with ``ids=None``, all) of the caller's own notifications read."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return session.execute(query.values(read_at=utcnow())).rowcount or 0
