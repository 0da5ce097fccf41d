"""Who may see which thread: the same rule as a Python check and as a SQL filter.

A staff-only thread is a learner's private question to staff (as on Ed Discussion): staff
and its author see it, no other learner does.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, not_, or_, true

from ..access import Caller
from ..errors import APIError
from ..store.discussions import Thread
from .anchoring import OWN_KEY_KIND


def can_see(caller: Caller, thread: Thread) -> bool:
    if thread.course != caller.course:
        return False
    return may_be_told(
        thread,
        is_staff=caller.is_staff,
        cohorts=caller.cohorts,
        is_author=thread.author_id == caller.user_id,
    )


def visible_filter(caller: Caller, *, own_private: bool = True) -> ColumnElement[bool]:
    """``can_see`` in SQL. ``own_private=False`` leaves out the caller's own staff-only
    threads: what every learner of the caller's cohorts sees alike, and so may be cached
    for all of them (``discussions.cache``)."""
    if caller.is_staff:
        return and_(Thread.course == caller.course, true())
    seen = [
        Thread.visibility == "course",
        and_(Thread.visibility == "cohort", Thread.cohort.in_(sorted(caller.cohorts))),
    ]
    if own_private:
        seen.append(and_(Thread.visibility == "staff", Thread.author_id == caller.user_id))
    return and_(
        Thread.course == caller.course,
        Thread.hidden.is_(False),
        Thread.deleted_at.is_(None),
        or_(*seen),
    )


def visible_in_any(callers: Collection[Caller]) -> ColumnElement[bool]:
    """``visible_filter`` over all of a person's courses (one ``Caller`` each): what they
    may read now, wherever it is. How their notifications are read, so none about a
    course or cohort they have left can be."""
    return or_(false(), *(visible_filter(c) for c in callers))


@functools.cache  # built once: SQLAlchemy takes longer to build these than to run them
def peer_blind() -> ColumnElement[bool]:
    """Anonymous threads on a stamped notebook (a key without ``/``,
    ``views.course_notebook``): peers get no key of theirs (``views.peer_location``), so
    they list them in the course Q&A, never under the notebook. A peer who learned the
    key of the asker's own notebook from her named threads would otherwise find her
    anonymous ones by listing it."""
    return and_(
        Thread.anonymous.is_(True),
        Thread.notebook_key.is_not(None),
        Thread.notebook_key.not_like("%/%"),
    )


@functools.cache
def peer_blind_cell() -> ColumnElement[bool]:
    """Anonymous threads on a course notebook whose cell key may be the asker's copy's alone
    (``views.own_cell_key``: a bare cell id): peers get no cell key of theirs, so they list
    them at notebook level, never under the cell."""
    return and_(
        Thread.anonymous.is_(True),
        Thread.notebook_key.like("%/%"),
        Thread.cell_key.is_not(None),
        func.coalesce(Thread.anchor["key_kind"].as_string(), "") == OWN_KEY_KIND,
    )


def peer_cell_key(caller: Caller, *, own_private: bool = True) -> ColumnElement[Any]:
    """The cell key a learner lists a thread under (None: notebook level), for counts."""
    if caller.is_staff:
        return Thread.cell_key
    blind = peer_blind_cell()
    if own_private:
        blind = and_(blind, Thread.author_id != caller.user_id)
    return case((blind, None), else_=Thread.cell_key)


def placed_filter(caller: Caller, scope: str, *, own_private: bool = True) -> ColumnElement[bool]:
    """Which visible threads a learner lists under a notebook (``scope="notebook"``), under
    one of its cells (``"cell"``) or in the course Q&A (``"course"``): a peer's anonymous
    thread on a stamped notebook moves from the notebook to the Q&A (:func:`peer_blind`),
    one on a cell only its asker may have from the cell to the notebook
    (:func:`peer_blind_cell`). ``own_private`` as in
    :func:`visible_filter` (without it the caller has no such thread of their own)."""
    if scope == "course":
        placed = Thread.notebook_key.is_(None)
        if caller.is_staff:
            return placed
        blind = peer_blind()
        if own_private:
            blind = and_(blind, Thread.author_id != caller.user_id)
        return or_(placed, blind)
    blind = or_(peer_blind(), peer_blind_cell()) if scope == "cell" else peer_blind()
    if caller.is_staff:
        return true()
    if own_private:
        return not_(and_(blind, Thread.author_id != caller.user_id))
    return not_(blind)


def may_be_told(
    thread: Thread, *, is_staff: bool, cohorts: Collection[str], is_author: bool
) -> bool:
    """Whether a course member (from the hub's roster, not a ``Caller``) may hear of the
    thread: the event stream's audience and who an @mention reaches. ``can_see`` for
    someone who is not the one making the request."""
    if is_staff:
        return True
    if thread.hidden or thread.deleted_at is not None:
        return False
    if thread.visibility == "course":
        return True
    if thread.visibility == "cohort":
        return thread.cohort in cohorts
    return is_author


def check_can_post_as(caller: Caller, visibility: str, cohort: str | None) -> None:
    """A learner may open a cohort thread only in their own cohort."""
    if visibility == "cohort" and not caller.is_staff and cohort not in caller.cohorts:
        raise APIError(
            403,
            "not_in_cohort",
            f"You can only open cohort threads in your own cohort ({cohort!r}).",
        )


def not_found(thread_id: int) -> APIError:
    # The same answer whether the thread does not exist or may not be seen: no leak.
    return APIError(404, "thread_not_found", f"There is no thread {thread_id} in this course.")
