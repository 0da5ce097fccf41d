"""Threads and posts as JSON for one viewer.

This is the one place that decides what a viewer may see of an author:
anonymous posts name their author only to staff and to the author; peers get
``"author": null`` in every response. Hidden and deleted posts keep their place
in the thread but lose their body for those who may not read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..access import Caller
from ..store.discussions import Post, Thread


def _author(author_id: int, anonymous: bool, viewer: Caller, names: Mapping[int, str]) -> Any:
    if anonymous and not (viewer.is_staff or author_id == viewer.user_id):
        return None
    return names.get(author_id)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def post_json(
    post: Post | Any,  # a Post, or a row of the posts table's columns
    viewer: Caller,
    names: Mapping[int, str],
    votes: int,
    voted: bool,
    accepted: bool,
) -> dict[str, Any]:
    removed = post.deleted_at is not None or (post.hidden and not viewer.is_staff)
    return {
        "id": post.id,
        "thread_id": post.thread_id,
        "parent_id": post.parent_id,
        "author": _author(post.author_id, post.anonymous, viewer, names),
        "anonymous": post.anonymous,
        "mine": post.author_id == viewer.user_id,
        "body": None if removed else post.body,
        "deleted": post.deleted_at is not None,
        "hidden": post.hidden,
        "created_at": _iso(post.created_at),
        "edited_at": _iso(post.edited_at),
        "votes": votes,
        "voted": voted,
        "endorsed": post.endorsed_by_id is not None,
        "endorsed_by": names.get(post.endorsed_by_id) if post.endorsed_by_id else None,
        "accepted": accepted,
    }


def thread_base(thread: Thread, *, reply_count: int) -> dict[str, Any]:
    """Everything about a thread that is the same for every viewer allowed to see it
    (what :mod:`cohortlab.discussions.cache` may share between viewers)."""
    return {
        "id": thread.id,
        "course": thread.course,
        "notebook_key": thread.notebook_key,
        "cell_key": thread.cell_key,
        "anchor": thread.anchor,
        "location": None,
        "category": thread.category,
        "kind": thread.kind,
        "title": thread.title,
        "visibility": thread.visibility,
        "cohort": thread.cohort,
        "anonymous": thread.anonymous,
        "resolved": thread.resolved,
        "pinned": thread.pinned,
        "locked": thread.locked,
        "hidden": thread.hidden,
        "deleted": thread.deleted_at is not None,
        "accepted_post_id": thread.accepted_post_id,
        "reply_count": reply_count,
        "created_at": _iso(thread.created_at),
        "last_activity_at": _iso(thread.last_activity_at),
    }


def for_viewer(
    base: Mapping[str, Any],
    author_id: int,
    viewer: Caller,
    names: Mapping[int, str],
    *,
    following: bool,
) -> dict[str, Any]:
    """``base`` plus what depends on who is looking: the author (or not), mine, following."""
    author = _author(author_id, base["anonymous"], viewer, names)
    anchor = base["anchor"]
    if anchor and "path" in anchor and base["anonymous"] and author is None:
        # a path in someone's home can name them: not for peers of an anonymous author
        anchor = {k: v for k, v in anchor.items() if k != "path"}
    return {
        **base,
        "anchor": anchor,
        "author": author,
        "mine": author_id == viewer.user_id,
        "following": following,
    }


def thread_json(
    thread: Thread,
    viewer: Caller,
    names: Mapping[int, str],
    *,
    reply_count: int,
    following: bool,
) -> dict[str, Any]:
    return for_viewer(
        thread_base(thread, reply_count=reply_count),
        thread.author_id,
        viewer,
        names,
        following=following,
    )
