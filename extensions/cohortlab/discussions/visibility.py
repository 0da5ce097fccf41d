"""Who may see which thread: the same rule as a Python check and as a SQL filter."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, true

from ..access import Caller
from ..errors import APIError
from ..store.discussions import Thread


def can_see(caller: Caller, thread: Thread) -> bool:
    if thread.course != caller.course:
        return False
    if caller.is_staff:
        return True
    if thread.hidden or thread.deleted_at is not None:
        return False
    if thread.visibility == "course":
        return True
    if thread.visibility == "cohort":
        return thread.cohort in caller.cohorts
    return False  # staff-only


def visible_filter(caller: Caller) -> ColumnElement[bool]:
    if caller.is_staff:
        return and_(Thread.course == caller.course, true())
    return and_(
        Thread.course == caller.course,
        Thread.hidden.is_(False),
        Thread.deleted_at.is_(None),
        or_(
            Thread.visibility == "course",
            and_(Thread.visibility == "cohort", Thread.cohort.in_(sorted(caller.cohorts))),
        ),
    )


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
