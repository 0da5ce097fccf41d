"""Threads and posts as JSON for one viewer.

This is the one place that decides what a viewer may see of an author:
anonymous posts name their author only to staff and to the author; peers get
``"author": null`` in every response. Hidden and deleted posts keep their place
in the thread but lose their body for those who may not read it.

An anonymous thread also gives peers nothing taken from the asker's own copy of the
notebook (:func:`peer_location`): no anchor (its quote is the asker's cell text, its
hashes can be matched against any copy a peer holds, such as a submission they review,
its path names the asker's home), and, on a notebook outside nbgrader's releases, whose
stamped key and cell keys may belong to the asker's file alone, no keys: shared with the
asker's named threads on that file they would link them. Such a thread shows to peers in
the course Q&A (``visibility.peer_blind``). On a course notebook, a cell key that is a bare
cell id (a cell the asker added) is kept from them too: the thread shows at notebook level.
The asker's own replies in it are anonymous to peers too, whatever the reply's own flag: one
named reply would unmask the thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..access import Caller
from ..store.discussions import Post, Thread
from .anchoring import OWN_KEY_KIND


def _author(author_id: int, anonymous: bool, viewer: Caller, names: Mapping[int, str]) -> Any:
    if anonymous and not (viewer.is_staff or author_id == viewer.user_id):
        return None
    return names.get(author_id)


def course_notebook(notebook_key: str | None) -> bool:
    """Whether ``notebook_key`` is nbgrader's ``<assignment>/<notebook>``, the same in every
    learner's released copy; any other key was stamped into one notebook file (a UUID
    with no ``/``), which may be one learner's alone."""
    return notebook_key is not None and "/" in notebook_key


def own_cell_key(anchor: Any) -> bool:
    """Whether the anchor says its cell key is a bare cell id, which may be one copy's alone
    (a cell its owner added), not a grade_id or release stamp that every copy of the course
    notebook has. Anchors made before ``key_kind`` was kept (and threads opened through the
    API without one) say nothing, and are placed as before."""
    return isinstance(anchor, Mapping) and anchor.get("key_kind") == OWN_KEY_KIND


def peer_location(
    notebook_key: str | None, cell_key: str | None, anchor: Any, anonymous: bool
) -> tuple[str | None, str | None, Any]:
    """``(notebook_key, cell_key, anchor)`` of a thread as a peer of its author sees it.

    A named thread is shown as stored. An anonymous one keeps only what every learner's
    copy shares: a course notebook's key, and its cell key when that is a grade_id or a
    release stamp (which place it on the cell; a thread on a cell only the asker has shows
    at notebook level), never the anchor (quote, hashes and path of the asker's copy; the
    client needs none of them to place it), and nothing of a stamped notebook."""
    if not anonymous:
        return notebook_key, cell_key, anchor
    if course_notebook(notebook_key):
        return notebook_key, None if own_cell_key(anchor) else cell_key, None
    return None, None, None


def post_anonymous(post_anonymous: bool, author_id: int, thread: Any) -> bool:
    """A post hides its author from peers when it says so, or when its author asked the
    thread anonymously (``thread`` has ``anonymous`` and ``author_id``)."""
    return post_anonymous or (bool(thread.anonymous) and author_id == thread.author_id)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def post_json(
    post: Post | Any,  # a Post, or a row of the posts table's columns
    viewer: Caller,
    names: Mapping[int, str],
    votes: int,
    voted: bool,
    accepted: bool,
    thread: Any = None,
) -> dict[str, Any]:
    """``thread`` (its ``anonymous`` and ``author_id``) makes the asker's own replies in an
    anonymous thread anonymous too (:func:`post_anonymous`)."""
    removed = post.deleted_at is not None or (post.hidden and not viewer.is_staff)
    anonymous = (
        post_anonymous(post.anonymous, post.author_id, thread)
        if thread is not None
        else post.anonymous
    )
    return {
        "id": post.id,
        "thread_id": post.thread_id,
        "parent_id": post.parent_id,
        "author": _author(post.author_id, anonymous, viewer, names),
        "anonymous": anonymous,
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
    notebook_key, cell_key, anchor = base["notebook_key"], base["cell_key"], base["anchor"]
    if author is None:
        notebook_key, cell_key, anchor = peer_location(
            notebook_key, cell_key, anchor, base["anonymous"]
        )
    return {
        **base,
        "notebook_key": notebook_key,
        "cell_key": cell_key,
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
