"""Posts: reply, edit (history kept), delete (soft), vote, endorse, flag, hide."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..access import Caller, require_staff
from ..errors import APIError
from ..store.discussions import Flag, Post, PostRevision, PostVote, Thread, ThreadFollow
from ..store.models import User, utcnow
from . import notify
from .ratelimit import RateLimit, check_post_rate
from .schemas import NewPost
from .threads import (
    Outcome,
    _visible_mentions,
    log_action,
    names_for,
    thread_detail,
)
from .views import post_json, thread_json
from .visibility import can_see, not_found


def load_post(session: Session, caller: Caller, post_id: int) -> tuple[Post, Thread]:
    post = session.get(Post, post_id)
    thread = session.get(Thread, post.thread_id) if post is not None else None
    if post is None or thread is None or not can_see(caller, thread):
        raise APIError(404, "post_not_found", f"There is no post {post_id} in this course.")
    return post, thread


# Replies are the busiest write: plain statements built once, no ORM unit of work.
# Table (Core) statements run on the session's connection: the ORM's bulk paths for
# insert(Post)/update(Thread) cost more than the SQL itself (a third of a reply's time).
_THREAD_ROW = (
    select(
        *Thread.__table__.columns,
        User.name.label("author_name"),
        select(func.count())
        .where(Post.thread_id == Thread.id)
        .scalar_subquery()
        .label("post_count"),
    )
    .join(User, User.id == Thread.author_id)
    .where(Thread.id == bindparam("thread_id"))
)
_NEW_POST = Post.__table__.insert().returning(Post.__table__.c.id)
_TOUCH_THREAD = (
    Thread.__table__.update()
    .where(Thread.__table__.c.id == bindparam("b_thread_id"))
    .values(last_activity_at=bindparam("b_at"))
)
_NEW_FOLLOW = ThreadFollow.__table__.insert()
_POST_COUNT = select(func.count()).select_from(Post).where(Post.thread_id == bindparam("thread_id"))


def reply(
    session: Session,
    caller: Caller,
    thread_id: int,
    new: NewPost,
    members: dict[str, tuple[bool, frozenset[str]]],
    limit: RateLimit,
) -> tuple[dict[str, Any], Outcome]:
    conn = session.connection()
    row = conn.execute(_THREAD_ROW, {"thread_id": thread_id}).one_or_none()
    if row is None or not can_see(caller, row):  # type: ignore[arg-type]
        raise not_found(thread_id)
    thread: Any = SimpleNamespace(**row._mapping)
    if thread.deleted_at is not None:
        raise APIError(409, "deleted", "This thread was deleted; it takes no replies.")
    if thread.locked and not caller.is_staff:
        raise APIError(409, "locked", "This thread is locked; staff have closed it to replies.")
    if new.parent_id is not None:
        parent = session.get(Post, new.parent_id)
        if parent is None or parent.thread_id != thread.id:
            raise APIError(422, "invalid_parent", "parent_id must be a post in this thread.")
    check_post_rate(session, caller.user_id, limit)
    now = utcnow()
    post_id = conn.execute(
        _NEW_POST,
        {
            "thread_id": thread.id,
            "parent_id": new.parent_id,
            "author_id": caller.user_id,
            "anonymous": new.anonymous,
            "body": new.body,
            "created_at": now,
            "hidden": False,
        },
    ).scalar_one()
    conn.execute(_TOUCH_THREAD, {"b_thread_id": thread.id, "b_at": now})
    thread.last_activity_at = now
    watchers = notify.followers(session, thread.id)
    notified = notify.notify_followers(
        session,
        thread,
        "reply",
        watchers,
        actor_id=caller.user_id,
        post_id=post_id,
        members=members,
    )
    mentioned = [
        u
        for u in _visible_mentions(session, caller, thread, new.body, members)
        if u not in notified
    ]
    notified += notify.notify(
        session, thread, "mention", mentioned, actor_id=caller.user_id, post_id=post_id
    )
    if caller.user_id not in watchers:
        conn.execute(_NEW_FOLLOW, {"thread_id": thread.id, "user_id": caller.user_id})
    return (
        _reply_json(session, caller, thread, new, post_id),
        Outcome(thread, notified, "replied"),
    )


def _reply_json(
    session: Session, caller: Caller, thread: Any, new: NewPost, post_id: int
) -> dict[str, Any]:
    """The new post and the thread's summary, not the whole thread: a reply's cost must
    not grow with the thread (the panel adds the post to the thread it shows)."""
    post = SimpleNamespace(
        id=post_id,
        thread_id=thread.id,
        parent_id=new.parent_id,
        author_id=caller.user_id,
        anonymous=new.anonymous,
        body=new.body,
        deleted_at=None,
        hidden=False,
        created_at=thread.last_activity_at,
        edited_at=None,
        endorsed_by_id=None,
    )
    names = {caller.user_id: caller.name, thread.author_id: thread.author_name}
    # post_count was read before this reply was added
    return {
        "post": post_json(post, caller, names, 0, False, accepted=False, thread=thread),
        "thread": thread_json(thread, caller, names, reply_count=thread.post_count, following=True),
    }


def edit(
    session: Session, caller: Caller, post_id: int, body: str
) -> tuple[dict[str, Any], Outcome]:
    post, thread = load_post(session, caller, post_id)
    if post.author_id != caller.user_id:
        raise APIError(403, "not_author", "You can only edit your own posts.")
    if post.deleted_at is not None:
        raise APIError(409, "deleted", "A deleted post cannot be edited.")
    if thread.locked and not caller.is_staff:
        raise APIError(409, "locked", "This thread is locked; its posts cannot be edited.")
    if body != post.body:
        session.add(PostRevision(post_id=post.id, body=post.body, edited_by_id=caller.user_id))
        post.body = body
        post.edited_at = utcnow()
    return thread_detail(session, caller, thread), Outcome(thread)


def revisions(session: Session, caller: Caller, post_id: int) -> list[dict[str, Any]]:
    post, _thread = load_post(session, caller, post_id)
    if post.author_id != caller.user_id and not caller.is_staff:
        raise APIError(403, "not_allowed", "Only the author and staff can read a post's history.")
    rows = list(
        session.scalars(
            select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.id)
        )
    )
    return [{"body": r.body, "edited_at": r.edited_at.isoformat()} for r in rows]


def remove(session: Session, caller: Caller, post_id: int) -> tuple[dict[str, Any], Outcome]:
    post, thread = load_post(session, caller, post_id)
    if post.author_id != caller.user_id and not caller.is_staff:
        raise APIError(403, "not_allowed", "You can only delete your own posts.")
    if post.deleted_at is None:
        post.deleted_at = utcnow()
        if post.author_id != caller.user_id:
            log_action(session, caller, "delete_post", thread, post.id)
    return thread_detail(session, caller, thread), Outcome(thread)


def vote(
    session: Session, caller: Caller, post_id: int, up: bool
) -> tuple[dict[str, Any], Outcome]:
    post, thread = load_post(session, caller, post_id)
    existing = session.get(PostVote, (post.id, caller.user_id))
    if up and existing is None:
        if post.author_id == caller.user_id:
            raise APIError(409, "own_post", "You cannot upvote your own post.")
        session.add(PostVote(post_id=post.id, user_id=caller.user_id))
    elif not up and existing is not None:
        session.delete(existing)
    return thread_detail(session, caller, thread), Outcome(thread)


def endorse(
    session: Session, caller: Caller, post_id: int, on: bool
) -> tuple[dict[str, Any], Outcome]:
    require_staff(caller, "endorse posts")
    post, thread = load_post(session, caller, post_id)
    outcome = Outcome(thread)
    if on and post.endorsed_by_id is None:
        post.endorsed_by_id, post.endorsed_at = caller.user_id, utcnow()
        outcome.notified = notify.notify(
            session,
            thread,
            "endorsement",
            [post.author_id],
            actor_id=caller.user_id,
            post_id=post.id,
        )
    elif not on:
        post.endorsed_by_id = post.endorsed_at = None
    log_action(session, caller, "endorse" if on else "unendorse", thread, post.id)
    return thread_detail(session, caller, thread), outcome


def hide(
    session: Session, caller: Caller, post_id: int, hidden: bool
) -> tuple[dict[str, Any], Outcome]:
    require_staff(caller, "hide posts")
    post, thread = load_post(session, caller, post_id)
    if post.hidden != hidden:
        post.hidden = hidden
        log_action(session, caller, "hide_post" if hidden else "unhide_post", thread, post.id)
        if hidden:
            for flag in session.scalars(select(Flag).where(Flag.post_id == post.id)):
                flag.resolved_at = flag.resolved_at or utcnow()
    return thread_detail(session, caller, thread), Outcome(thread)


def dismiss_flags(session: Session, caller: Caller, post_id: int) -> tuple[dict[str, Any], Outcome]:
    """Staff looked at the flags and leave the post as it is: the flags close, logged."""
    require_staff(caller, "dismiss flags")
    post, thread = load_post(session, caller, post_id)
    dismissed = 0
    for open_flag in session.scalars(
        select(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
    ):
        open_flag.resolved_at = utcnow()
        dismissed += 1
    if dismissed:
        log_action(session, caller, "dismiss_flags", thread, post.id, count=dismissed)
    return {"post_id": post.id, "dismissed": dismissed}, Outcome(thread, action="flags_dismissed")


def flag(
    session: Session, caller: Caller, post_id: int, reason: str
) -> tuple[dict[str, Any], Outcome]:
    post, thread = load_post(session, caller, post_id)
    if post.author_id == caller.user_id:
        raise APIError(409, "own_post", "You cannot flag your own post.")
    existing = session.scalar(
        select(Flag).where(Flag.post_id == post.id, Flag.user_id == caller.user_id)
    )
    if existing is not None:
        raise APIError(409, "already_flagged", "You have already flagged this post.")
    session.add(Flag(post_id=post.id, user_id=caller.user_id, reason=reason))
    return {"flagged": True, "post_id": post.id}, Outcome(thread, action="flagged")


def open_flags(session: Session, caller: Caller) -> list[dict[str, Any]]:
    """Flagged posts for staff: one row per post, with the count and the reasons."""
    require_staff(caller, "see flags")
    rows = session.execute(
        select(Flag, Post, Thread)
        .join(Post, Flag.post_id == Post.id)
        .join(Thread, Post.thread_id == Thread.id)
        .where(Thread.course == caller.course, Flag.resolved_at.is_(None))
        .order_by(Flag.id)
    ).all()
    by_post: dict[int, dict[str, Any]] = {}
    people = {post.author_id for _f, post, _t in rows} | {f.user_id for f, _p, _t in rows}
    names = names_for(session, people)
    for flag_row, post, thread in rows:
        entry = by_post.setdefault(
            post.id,
            {
                "post_id": post.id,
                "thread_id": thread.id,
                "thread_title": thread.title,
                "author": names.get(post.author_id),
                "body": post.body,
                "hidden": post.hidden,
                "count": 0,
                "reasons": [],
            },
        )
        entry["count"] += 1
        entry["reasons"].append({"by": names.get(flag_row.user_id), "reason": flag_row.reason})
    return sorted(by_post.values(), key=lambda e: -e["count"])
