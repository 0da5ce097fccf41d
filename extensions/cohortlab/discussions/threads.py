"""Threads: open, list, read, change (resolve, accept, pin, lock, hide, move), delete.

Functions take a session and a :class:`~cohortlab.access.Caller` and return
JSON-ready data plus an :class:`Outcome` listing whom to tell once the
transaction has committed (the handler publishes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..access import Caller, require_staff
from ..errors import APIError
from ..store.discussions import ModerationAction, Post, PostVote, Thread
from ..store.models import User, utcnow
from . import notify
from .ratelimit import RateLimit, check_post_rate
from .schemas import NewThread, ThreadChange
from .views import post_json, thread_json
from .visibility import can_see, check_can_post_as, not_found, visible_filter

LIST_LIMIT = 200
# Course members for @mentions: name -> (is staff, cohorts in the course).
Members = dict[str, tuple[bool, frozenset[str]]]
MODERATION_VERBS = {"pinned": "pin", "locked": "lock", "hidden": "hide"}


@dataclass
class Outcome:
    """What changed, for the event stream: the thread, and who got a notification."""

    thread: Thread | None = None
    notified: list[int] = field(default_factory=list)
    action: str = "changed"


def names_for(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())


def load_visible(session: Session, caller: Caller, thread_id: int) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None or not can_see(caller, thread):
        raise not_found(thread_id)
    return thread


def log_action(
    session: Session,
    caller: Caller,
    action: str,
    thread: Thread,
    post_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        ModerationAction(
            course=caller.course,
            actor_id=caller.user_id,
            action=action,
            thread_id=thread.id,
            post_id=post_id,
            detail=detail or None,
        )
    )


def open_thread(
    session: Session, caller: Caller, new: NewThread, members: Members, limit: RateLimit
) -> tuple[dict[str, Any], Outcome]:
    check_can_post_as(caller, new.visibility, new.cohort)
    if new.visibility == "staff" and not caller.is_staff and new.kind != "question":
        # learners may ask staff privately; other staff-only threads are staff's own
        raise APIError(403, "staff_only", "Only staff can open staff-only comments or notes.")
    check_post_rate(session, caller.user_id, limit)
    now = utcnow()
    thread = Thread(
        course=caller.course,
        notebook_key=new.notebook_key,
        cell_key=new.cell_key,
        anchor=new.anchor,
        category=new.category,
        kind=new.kind,
        title=new.title,
        visibility=new.visibility,
        cohort=new.cohort,
        author_id=caller.user_id,
        anonymous=new.anonymous,
        created_at=now,
        last_activity_at=now,
    )
    session.add(thread)
    session.flush()
    post = Post(
        thread_id=thread.id,
        author_id=caller.user_id,
        anonymous=new.anonymous,
        body=new.body,
        created_at=now,
    )
    session.add(post)
    session.flush()
    notify.follow(session, thread.id, caller.user_id)
    mentioned = _visible_mentions(session, caller, thread, new.body, members)
    notified = notify.notify(
        session, thread, "mention", mentioned, actor_id=caller.user_id, post_id=post.id
    )
    return thread_detail(session, caller, thread), Outcome(thread, notified, "created")


def _visible_mentions(
    session: Session, caller: Caller, thread: Thread, body: str, members: Members
) -> list[int]:
    """Course members named with @ who may see the thread; others are not told of it."""
    allowed = []
    for name in notify.mentioned_names(body):
        if name not in members:
            continue
        is_staff, cohorts = members[name]
        if (
            is_staff
            or thread.visibility == "course"
            or (thread.visibility == "cohort" and thread.cohort in cohorts)
        ):
            allowed.append(name)
    return list(notify.user_ids_by_name(session, allowed).values())


def list_threads(
    session: Session,
    caller: Caller,
    *,
    notebook_key: str | None,
    cell_key: str | None,
    scope: str,
    category: str | None,
    q: str | None,
) -> list[dict[str, Any]]:
    """``scope``: "course" (the Q&A: threads without a notebook), "notebook" (one
    notebook, optionally one cell) or "all" (search across the course)."""
    query = select(Thread).where(visible_filter(caller))
    if scope == "course":
        query = query.where(Thread.notebook_key.is_(None))
    elif scope == "notebook":
        if not notebook_key:
            raise APIError(400, "missing_field", "Listing a notebook's threads needs notebook_key.")
        query = query.where(Thread.notebook_key == notebook_key)
        if cell_key is not None:
            query = query.where(Thread.cell_key == cell_key)
    if category:
        query = query.where(Thread.category == category)
    if q:
        pattern = f"%{q.strip()[:200]}%"
        matching_posts = select(Post.thread_id).where(
            Post.body.ilike(pattern), Post.deleted_at.is_(None), Post.hidden.is_(False)
        )
        query = query.where(or_(Thread.title.ilike(pattern), Thread.id.in_(matching_posts)))
    query = query.order_by(Thread.pinned.desc(), Thread.last_activity_at.desc()).limit(LIST_LIMIT)
    threads = list(session.scalars(query))
    if not threads:
        return []
    ids = [t.id for t in threads]
    replies = dict(
        session.execute(
            select(Post.thread_id, func.count() - 1)
            .where(Post.thread_id.in_(ids))
            .group_by(Post.thread_id)
        ).all()
    )
    followed = set(
        session.scalars(
            select(notify.ThreadFollow.thread_id).where(
                notify.ThreadFollow.user_id == caller.user_id,
                notify.ThreadFollow.thread_id.in_(ids),
            )
        )
    )
    names = names_for(session, {t.author_id for t in threads})
    return [
        thread_json(t, caller, names, reply_count=replies.get(t.id, 0), following=t.id in followed)
        for t in threads
    ]


def thread_counts(session: Session, caller: Caller, notebook_key: str) -> dict[str, int]:
    """Visible threads per cell of one notebook ("" for notebook-level threads): what a
    notebook needs to draw its badges, in one query."""
    rows = session.execute(
        select(Thread.cell_key, func.count())
        .where(visible_filter(caller), Thread.notebook_key == notebook_key)
        .group_by(Thread.cell_key)
    ).all()
    return {cell or "": count for cell, count in rows}


def thread_detail(session: Session, caller: Caller, thread: Thread) -> dict[str, Any]:
    posts = list(session.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)))
    ids = [p.id for p in posts]
    votes = (
        dict(
            session.execute(
                select(PostVote.post_id, func.count())
                .where(PostVote.post_id.in_(ids))
                .group_by(PostVote.post_id)
            ).all()
        )
        if ids
        else {}
    )
    mine = (
        set(
            session.scalars(
                select(PostVote.post_id).where(
                    PostVote.post_id.in_(ids), PostVote.user_id == caller.user_id
                )
            )
        )
        if ids
        else set()
    )
    people = {p.author_id for p in posts} | {p.endorsed_by_id for p in posts if p.endorsed_by_id}
    names = names_for(session, people | {thread.author_id})
    data = thread_json(
        thread,
        caller,
        names,
        reply_count=max(len(posts) - 1, 0),
        following=notify.is_following(session, thread.id, caller.user_id),
    )
    data["posts"] = [
        post_json(
            p,
            caller,
            names,
            votes.get(p.id, 0),
            p.id in mine,
            accepted=p.id == thread.accepted_post_id,
        )
        for p in posts
    ]
    return data


def read_thread(session: Session, caller: Caller, thread_id: int) -> dict[str, Any]:
    return thread_detail(session, caller, load_visible(session, caller, thread_id))


def change_thread(
    session: Session, caller: Caller, thread_id: int, change: ThreadChange
) -> tuple[dict[str, Any], Outcome]:
    thread = load_visible(session, caller, thread_id)
    is_author = thread.author_id == caller.user_id
    outcome = Outcome(thread)
    for flag, value in change.flags.items():
        if flag == "resolved":
            if not (is_author or caller.is_staff):
                raise APIError(
                    403,
                    "not_allowed",
                    "Only the thread's author or staff can resolve or reopen it.",
                )
        else:
            require_staff(caller, f"change whether a thread is {flag}")
        if getattr(thread, flag) != value:
            setattr(thread, flag, value)
            if flag != "resolved":
                verb = MODERATION_VERBS[flag]
                log_action(session, caller, verb if value else f"un{verb}", thread)
    if change.accepted_post_id is not None or change.clear_accepted:
        if thread.kind != "question":
            raise APIError(409, "not_a_question", "Only questions have an accepted answer.")
        if not (is_author or caller.is_staff):
            raise APIError(403, "not_allowed", "Only the asker or staff can accept an answer.")
        if change.clear_accepted:
            thread.accepted_post_id = None
        else:
            post = session.get(Post, change.accepted_post_id)
            first = session.scalar(select(func.min(Post.id)).where(Post.thread_id == thread.id))
            if post is None or post.thread_id != thread.id or post.id == first:
                raise APIError(
                    422, "invalid_answer", "The accepted answer must be a reply in this thread."
                )
            if post.deleted_at is not None:
                raise APIError(409, "deleted", "A deleted reply cannot be the accepted answer.")
            thread.accepted_post_id = post.id
            thread.resolved = True
            outcome.notified = notify.notify(
                session,
                thread,
                "answer",
                [post.author_id],
                actor_id=caller.user_id,
                post_id=post.id,
            )
    if change.title is not None:
        if not (is_author or caller.is_staff):
            raise APIError(403, "not_allowed", "Only the author or staff can retitle a thread.")
        thread.title = change.title
    if change.move_to is not None:
        require_staff(caller, "move a thread")
        before = {"notebook_key": thread.notebook_key, "cell_key": thread.cell_key}
        thread.notebook_key, thread.cell_key = change.move_to
        if thread.notebook_key:
            thread.category = None
        log_action(
            session,
            caller,
            "move",
            thread,
            before=before,
            after={"notebook_key": thread.notebook_key, "cell_key": thread.cell_key},
        )
    thread.last_activity_at = utcnow()
    return thread_detail(session, caller, thread), outcome


def delete_thread(session: Session, caller: Caller, thread_id: int) -> Outcome:
    thread = load_visible(session, caller, thread_id)
    if not (thread.author_id == caller.user_id or caller.is_staff):
        raise APIError(403, "not_allowed", "Only the thread's author or staff can delete it.")
    if thread.deleted_at is None:
        thread.deleted_at = utcnow()
        if caller.is_staff and thread.author_id != caller.user_id:
            log_action(session, caller, "delete_thread", thread)
    return Outcome(thread, action="deleted")


def moderation_log(session: Session, caller: Caller, limit: int = 200) -> list[dict[str, Any]]:
    require_staff(caller, "read the moderation log")
    rows = list(
        session.scalars(
            select(ModerationAction)
            .where(ModerationAction.course == caller.course)
            .order_by(ModerationAction.id.desc())
            .limit(limit)
        )
    )
    names = names_for(session, {r.actor_id for r in rows})
    return [
        {
            "id": r.id,
            "actor": names.get(r.actor_id),
            "action": r.action,
            "thread_id": r.thread_id,
            "post_id": r.post_id,
            "detail": r.detail,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
