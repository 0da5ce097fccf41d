"""Threads: open, list, read, change (resolve, accept, pin, lock, hide, move), delete.

Functions take a session and a :class:`~cohortlab.access.Caller` and return
JSON-ready data plus an :class:`Outcome` listing whom to tell once the
transaction has committed (the handler publishes it).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..access import Caller, require_staff
from ..errors import APIError
from ..store.discussions import ModerationAction, Post, PostVote, Thread
from ..store.models import User, utcnow
from . import notify
from .ratelimit import RateLimit, check_post_rate
from .schemas import NewThread, ThreadChange
from .views import for_viewer, post_json, thread_base, thread_json
from .visibility import (
    can_see,
    check_can_post_as,
    may_be_told,
    not_found,
    peer_blind,
    peer_blind_cell,
    peer_cell_key,
    placed_filter,
    visible_filter,
)

LIST_LIMIT = 200
# Course members for @mentions: name -> (is staff, cohorts in the course).
Members = dict[str, tuple[bool, frozenset[str]]]
MODERATION_VERBS = {"pinned": "pin", "locked": "lock", "hidden": "hide"}
# Outcomes only staff hear of (the flag list's count changes; the thread does not).
STAFF_ACTIONS = ("flagged", "flags_dismissed")


@dataclass
class Outcome:
    """What changed, for the event stream: the thread, and who got a notification."""

    thread: Thread | None = None
    notified: list[int] = field(default_factory=list)
    action: str = "changed"
    #: ``notified`` as hub names (the event stream's addresses), filled in by the handler.
    notified_names: list[str] = field(default_factory=list)


_NAMES = select(User.id, User.name).where(User.id.in_(bindparam("ids", expanding=True)))


def names_for(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.connection().execute(_NAMES, {"ids": list(user_ids)}).all())


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
    named = [name for name in notify.mentioned_names(body) if name in members]
    return [
        user_id
        for name, user_id in notify.user_ids_by_name(session, named).items()
        if may_be_told(
            thread,
            is_staff=members[name][0],
            cohorts=members[name][1],
            is_author=user_id == thread.author_id,
        )
    ]


@dataclass(frozen=True)
class ThreadRow:
    """A listed thread as every viewer of one visibility class sees it (cacheable)."""

    base: dict[str, Any]
    author_id: int
    author_name: str | None


def thread_rows(
    session: Session,
    caller: Caller,
    *,
    notebook_key: str | None,
    cell_key: str | None,
    scope: str,
    category: str | None,
    q: str | None,
    own_private: bool = True,
) -> list[ThreadRow]:
    """``scope``: "course" (the Q&A: threads without a notebook), "notebook" (one
    notebook, optionally one cell) or "all" (search across the course).

    Depends on the caller only through ``visible_filter`` (staff, cohorts, and with
    ``own_private`` their own staff-only threads), so the result may be shared by every
    caller of the same visibility class (``cache.viewer_class``)."""
    query = select(Thread).where(visible_filter(caller, own_private=own_private))
    if scope == "course":
        query = query.where(placed_filter(caller, "course", own_private=own_private))
    elif scope == "notebook":
        if not notebook_key:
            raise APIError(400, "missing_field", "Listing a notebook's threads needs notebook_key.")
        query = query.where(
            Thread.notebook_key == notebook_key,
            placed_filter(
                caller, "notebook" if cell_key is None else "cell", own_private=own_private
            ),
        )
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
    replies = dict(
        session.execute(
            select(Post.thread_id, func.count() - 1)
            .where(Post.thread_id.in_([t.id for t in threads]))
            .group_by(Post.thread_id)
        ).all()
    )
    names = names_for(session, {t.author_id for t in threads})
    return [
        ThreadRow(
            thread_base(t, reply_count=replies.get(t.id, 0)), t.author_id, names.get(t.author_id)
        )
        for t in threads
    ]


def private_askers(session: Session, course: str) -> frozenset[int]:
    """Who has staff-only threads in the course, or anonymous ones on a stamped notebook or
    on a cell only they may have (listed for them where peers do not list them,
    ``placed_filter``): their listings are their own, so they are cached for them alone
    (``cache.viewer_class``)."""
    return frozenset(
        session.scalars(
            select(Thread.author_id)
            .where(
                Thread.course == course,
                or_(Thread.visibility == "staff", peer_blind(), peer_blind_cell()),
            )
            .distinct()
        )
    )


def followed_ids(session: Session, caller: Caller) -> frozenset[int]:
    """The threads of the caller's course that the caller follows."""
    return frozenset(
        session.scalars(
            select(notify.ThreadFollow.thread_id)
            .join(Thread, Thread.id == notify.ThreadFollow.thread_id)
            .where(notify.ThreadFollow.user_id == caller.user_id, Thread.course == caller.course)
        )
    )


def render_rows(
    rows: list[ThreadRow], caller: Caller, followed: frozenset[int]
) -> list[dict[str, Any]]:
    return [
        for_viewer(
            row.base,
            row.author_id,
            caller,
            {row.author_id: row.author_name} if row.author_name else {},
            following=row.base["id"] in followed,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class RenderedRow:
    """A listed thread as JSON text for one visibility class, open at the end: ``peer`` as
    anyone but its author sees it, ``own`` as its author does. A viewer's ``mine`` and
    ``following`` are appended per request (:func:`listing_json`), so a cached listing is
    serialised once, not once per reader."""

    thread_id: int
    author_id: int
    peer: str
    own: str


def _open_json(value: dict[str, Any]) -> str:
    """``value`` as JSON without its closing brace; the keys of :func:`for_viewer` that
    depend on the viewer alone ("mine", "following", always last) are left out."""
    body = {k: v for k, v in value.items() if k not in ("mine", "following")}
    return json.dumps(body, separators=(",", ":"), default=str)[:-1]


def prerender(rows: list[ThreadRow], staff: bool) -> list[RenderedRow]:
    """``rows`` as a viewer of one class sees them (staff, or a learner), ready to cache."""
    role = "instructor" if staff else "learner"
    nobody = Caller(name="", user_id=-1, course="", role=role, cohorts=frozenset())
    out = []
    for row in rows:
        names = {row.author_id: row.author_name} if row.author_name else {}
        author = Caller(name="", user_id=row.author_id, course="", role=role, cohorts=frozenset())
        peer = for_viewer(row.base, row.author_id, nobody, names, following=False)
        own = for_viewer(row.base, row.author_id, author, names, following=False)
        out.append(RenderedRow(row.base["id"], row.author_id, _open_json(peer), _open_json(own)))
    return out


def listing_json(rows: list[RenderedRow], caller: Caller, followed: frozenset[int]) -> str:
    """``{"threads": [...]}`` for ``caller``: the same document as ``render_rows`` dumped
    (tests hold them equal), built from prerendered text."""
    parts = []
    for row in rows:
        mine = row.author_id == caller.user_id
        parts.append(
            f"{row.own if mine else row.peer},"
            f'"mine":{"true" if mine else "false"},'
            f'"following":{"true" if row.thread_id in followed else "false"}}}'
        )
    return '{"threads":[' + ",".join(parts) + "]}"


def list_threads(session: Session, caller: Caller, **query: Any) -> list[dict[str, Any]]:
    """Uncached listing (``thread_rows`` for this caller, rendered for them)."""
    return render_rows(thread_rows(session, caller, **query), caller, followed_ids(session, caller))


def thread_counts(
    session: Session, caller: Caller, notebook_key: str, own_private: bool = True
) -> dict[str, int]:
    """Visible threads per cell of one notebook ("" for notebook-level threads): what a
    notebook needs to draw its badges, in one query."""
    cell = peer_cell_key(caller, own_private=own_private)
    rows = session.execute(
        select(cell, func.count())
        .where(
            visible_filter(caller, own_private=own_private),
            Thread.notebook_key == notebook_key,
            placed_filter(caller, "notebook", own_private=own_private),
        )
        .group_by(cell)
    ).all()
    return {cell or "": count for cell, count in rows}


@functools.cache
def _thread_posts_query() -> Select[Any]:
    """A thread's posts with author and endorser names and vote counts, built once:
    SQLAlchemy spends more time building a statement like this than running it."""
    thread_id, viewer_id = bindparam("thread_id"), bindparam("viewer_id")
    in_thread = select(Post.id).where(Post.thread_id == thread_id).scalar_subquery()
    votes_q = (
        select(
            PostVote.post_id.label("post_id"),
            func.count().label("votes"),
            func.sum(case((PostVote.user_id == viewer_id, 1), else_=0)).label("mine"),
        )
        .where(PostVote.post_id.in_(in_thread))
        .group_by(PostVote.post_id)
        .subquery()
    )
    author, endorser = aliased(User), aliased(User)
    return (
        select(
            *Post.__table__.columns,
            author.name.label("author_name"),
            endorser.name.label("endorser_name"),
            votes_q.c.votes,
            votes_q.c.mine,
        )
        .join(author, author.id == Post.author_id)
        .outerjoin(endorser, endorser.id == Post.endorsed_by_id)
        .outerjoin(votes_q, votes_q.c.post_id == Post.id)
        .where(Post.thread_id == thread_id)
        .order_by(Post.id)
    )


def thread_detail(
    session: Session, caller: Caller, thread: Thread, *, following: bool | None = None
) -> dict[str, Any]:
    """The thread with its posts, votes and names, read in one query as plain rows
    (every write answers with this, so it is on the path of every reply)."""
    posts = session.execute(
        _thread_posts_query(), {"thread_id": thread.id, "viewer_id": caller.user_id}
    ).all()
    names = {p.author_id: p.author_name for p in posts}
    names.update({p.endorsed_by_id: p.endorser_name for p in posts if p.endorsed_by_id})
    votes = {p.id: p.votes or 0 for p in posts}
    mine = {p.id for p in posts if p.mine}
    if thread.author_id not in names:
        names.update(names_for(session, {thread.author_id}))
    data = thread_json(
        thread,
        caller,
        names,
        reply_count=max(len(posts) - 1, 0),
        following=(
            notify.is_following(session, thread.id, caller.user_id)
            if following is None
            else following
        ),
    )
    data["posts"] = [
        post_json(
            p,
            caller,
            names,
            votes.get(p.id, 0),
            p.id in mine,
            accepted=p.id == thread.accepted_post_id,
            thread=thread,
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
        # the old fingerprint described another cell; keep it only for a notebook-level move
        if thread.cell_key or not thread.notebook_key:
            thread.anchor = change.move_anchor
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
    if change.category is not None:
        if not (is_author or caller.is_staff):
            raise APIError(403, "not_allowed", "Only the author or staff can change a category.")
        if thread.notebook_key:
            raise APIError(400, "invalid_category", "Categories are for course Q&A threads only.")
        thread.category = change.category or None
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
