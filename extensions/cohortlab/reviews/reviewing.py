"""Reviewing in the database, the reviewer's side: my rounds and assignments, opening a
submission, saving and submitting a review, asking for one more, and reading reviews.

Everything a learner receives is built here and names nobody: submissions are "Submission N"
with their anonymous copy, and no response carries a user name or a user id — not the
author's, and not another reviewer's (unless the instructor turned names on, and only after
release). A learner asking for a submission they were not allocated gets the same 404 as for
one that does not exist, so numbers cannot be probed. Staff (instructors and mentors) get the
same routes with identities (:mod:`cohortlab.reviews.manage`).

Leases are settled (``state.settle_leases``) before a reviewer's list or a copy is read, so
what a reviewer sees is never work that has already gone to someone else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Caller
from ..errors import APIError
from ..store.reviews import (
    Review,
    ReviewAssignment,
    ReviewExclusion,
    ReviewNotebook,
    ReviewRound,
    ReviewSubmission,
)
from .allocation import AllocationError, Reviewer, extra_review
from .anonymize import pseudonym
from .manage import staff_round, staff_summary
from .rubric import parse_review, unpack
from .state import (
    Roster,
    RoundPeople,
    add_assignments,
    cohort_of,
    constraints,
    criteria,
    describe_round,
    due_for,
    find_round,
    iso,
    names_of,
    reviewing_open,
    settle_leases,
)


def list_rounds(
    session: Session, caller: Caller, roster: Roster, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The course's rounds: for staff with their progress, for a learner with their own
    assignments in each. ``(body, reviewers given new work by lapsed leases)``."""
    rounds = session.scalars(
        select(ReviewRound)
        .where(ReviewRound.course == caller.course)
        .order_by(ReviewRound.assignment)
    ).all()
    told = [name for rnd in rounds for name in settle_leases(session, rnd, roster, now)]
    if caller.is_staff:
        return {"rounds": [staff_summary(session, rnd, now) for rnd in rounds]}, told
    out = []
    for rnd in rounds:
        due = due_for(session, rnd, caller.user_id)
        out.append(
            {
                **describe_round(rnd, due, now),
                "assignments": my_assignments(session, caller, rnd, now),
            }
        )
    return {"rounds": out}, told


def round_view(
    session: Session, caller: Caller, assignment: str, roster: Roster, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """One round: everything with identities for staff; the rubric and my assignments for a
    learner."""
    rnd = find_round(session, caller.course, assignment)
    told = settle_leases(session, rnd, roster, now)
    if caller.is_staff:
        return staff_round(session, rnd, roster, now), told
    due = due_for(session, rnd, caller.user_id)
    own = session.scalars(
        select(ReviewSubmission.number).where(
            ReviewSubmission.round_id == rnd.id, ReviewSubmission.author_id == caller.user_id
        )
    ).one_or_none()
    return {
        "round": describe_round(rnd, due, now),
        "rubric": [c.as_json() for c in criteria(session, rnd)],
        "assignments": my_assignments(session, caller, rnd, now),
        # the learner's own pseudonym (theirs to know; how their feedback will be found)
        "my_submission": {"number": own, "name": pseudonym(own)} if own is not None else None,
        "my_agreement": my_agreement(session, caller, rnd),
    }, told


def my_agreement(session: Session, caller: Caller, rnd: ReviewRound) -> float | None:
    """How far my scores agree with the other reviewers' (``aggregate`` module doc), once
    feedback is released (before, it would hint at others' scores while they can change)."""
    if not rnd.released:
        return None
    from .results import RoundOutcome  # results builds on this module's neighbours

    fit = RoundOutcome.load(session, rnd).result.reviewers.get(str(caller.user_id))
    return round(fit.agreement, 4) if fit and fit.agreement is not None else None


def my_assignments(
    session: Session, caller: Caller, rnd: ReviewRound, now: datetime
) -> list[dict[str, Any]]:
    due = due_for(session, rnd, caller.user_id)
    rows = session.execute(
        select(ReviewAssignment, ReviewSubmission.number, Review.status)
        .join(ReviewSubmission, ReviewAssignment.submission_id == ReviewSubmission.id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(
            ReviewAssignment.round_id == rnd.id,
            ReviewAssignment.reviewer_id == caller.user_id,
            ReviewAssignment.state == "active",
        )
        .order_by(ReviewAssignment.assigned_at, ReviewSubmission.number)
    ).all()
    return [_summary(a, number, status, rnd, due, now) for a, number, status in rows]


def _summary(
    a: ReviewAssignment,
    number: int,
    status: str | None,
    rnd: ReviewRound,
    due: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    state = status or ("opened" if a.opened_at else "not_opened")
    return {
        "submission": number,
        "name": pseudonym(number),
        "state": state,
        "extra": a.extra,
        "assigned_at": iso(a.assigned_at),
        "opened_at": iso(a.opened_at),
        "lease_expires_at": iso(a.lease_expires_at) if a.opened_at is None else None,
        "due_at": iso(due),
        "can_edit": reviewing_open(rnd, due, now),
    }


def _mine(
    session: Session, caller: Caller, rnd: ReviewRound, number: Any
) -> tuple[ReviewAssignment, ReviewSubmission]:
    """My active assignment for submission ``number``; 404 alike for "not yours" and "none"."""
    found = None
    if isinstance(number, int):
        found = session.execute(
            select(ReviewAssignment, ReviewSubmission)
            .join(ReviewSubmission, ReviewAssignment.submission_id == ReviewSubmission.id)
            .where(
                ReviewSubmission.round_id == rnd.id,
                ReviewSubmission.number == number,
                ReviewAssignment.reviewer_id == caller.user_id,
                ReviewAssignment.state == "active",
            )
        ).one_or_none()
    if found is None:
        raise _no_submission(rnd, number)
    return found[0], found[1]


def _no_submission(rnd: ReviewRound, number: Any) -> APIError:
    return APIError(
        404,
        "unknown_submission",
        f"There is no Submission {number} for you in the peer review of {rnd.assignment!r}.",
    )


def _submission(session: Session, rnd: ReviewRound, number: int) -> ReviewSubmission:
    sub = session.scalars(
        select(ReviewSubmission).where(
            ReviewSubmission.round_id == rnd.id, ReviewSubmission.number == number
        )
    ).one_or_none()
    if sub is None:
        raise _no_submission(rnd, number)
    return sub


def _copies(session: Session, sub: ReviewSubmission, *, content: bool) -> list[dict[str, Any]]:
    columns = [ReviewNotebook.name, ReviewNotebook.cells]
    if content:
        columns.append(ReviewNotebook.content)
    rows = session.execute(
        select(*columns)
        .where(ReviewNotebook.submission_id == sub.id)
        .order_by(ReviewNotebook.position)
    ).all()
    return [
        {"name": r[0], "cells": r[1], **({"content": unpack(r[2])} if content else {})}
        for r in rows
    ]


def review_json(review: Review | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "status": review.status,
        "scores": review.scores,
        "comment": review.comment,
        "cell_comments": review.cell_comments,
        "updated_at": iso(review.updated_at),
        "submitted_at": iso(review.submitted_at),
    }


def _review_of(session: Session, a: ReviewAssignment) -> Review | None:
    return session.scalars(select(Review).where(Review.assignment_id == a.id)).one_or_none()


def open_submission(
    session: Session,
    caller: Caller,
    assignment: str,
    number: int,
    roster: Roster,
    now: datetime,
) -> tuple[dict[str, Any], list[str]]:
    """The anonymous copy to review, the rubric and my review so far; the first read marks the
    assignment opened (which ends its lease). Staff read any copy, with its author."""
    rnd = find_round(session, caller.course, assignment)
    told = settle_leases(session, rnd, roster, now)
    rubric = [c.as_json() for c in criteria(session, rnd)]
    if caller.is_staff:
        sub = _submission(session, rnd, number)
        author = names_of(session, {sub.author_id})[sub.author_id]
        body = {
            "submission": _submission_json(session, sub, author=author),
            "rubric": rubric,
            "round": describe_round(rnd, rnd.due_at, now),
        }
        return body, told
    a, sub = _mine(session, caller, rnd, number)
    if a.opened_at is None:
        a.opened_at = now
    due = due_for(session, rnd, caller.user_id)
    review = _review_of(session, a)
    return {
        "submission": _submission_json(session, sub),
        "rubric": rubric,
        "review": review_json(review),
        "assignment": _summary(a, sub.number, review.status if review else None, rnd, due, now),
        "round": describe_round(rnd, due, now),
    }, told


def _submission_json(
    session: Session, sub: ReviewSubmission, *, author: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": sub.number,
        "name": pseudonym(sub.number),
        "notebooks": _copies(session, sub, content=True),
    }
    if author is not None:
        out["author"] = author
    return out


def save_review(
    session: Session,
    caller: Caller,
    assignment: str,
    number: int,
    body: dict[str, Any],
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """Save my review as a draft or submit it, until my due date; ``(body, submitted now)``.

    The body replaces what was saved before. A submitted review can still be edited until
    the due date, but not turned back into a draft.
    """
    if caller.role != "learner":
        raise APIError(
            403, "reviewers_only", "Only the learners a submission was allocated to review it."
        )
    rnd = find_round(session, caller.course, assignment)
    a, sub = _mine(session, caller, rnd, number)
    due = due_for(session, rnd, caller.user_id)
    if rnd.state != "open":
        raise APIError(
            409, "round_closed", f"The peer review of {assignment!r} is closed; reviews are final."
        )
    if due is not None and now >= due:
        raise APIError(
            409,
            "past_due",
            f"Reviews for {assignment!r} were due at {iso(due)}; they can no longer change.",
        )
    cells = {nb["name"]: nb["cells"] for nb in _copies(session, sub, content=False)}
    scores, comment, cell_comments, submit = parse_review(body, criteria(session, rnd), cells)
    review = _review_of(session, a)
    if review is None:
        review = Review(assignment_id=a.id, status="draft", created_at=now)
        session.add(review)
    elif review.status == "submitted" and not submit:
        raise APIError(
            409,
            "already_submitted",
            "This review is submitted; send your changes with submit: true (it stays submitted).",
        )
    review.scores, review.comment, review.cell_comments = scores, comment, cell_comments
    review.updated_at = now
    if submit:
        review.status, review.submitted_at = "submitted", now
    if a.opened_at is None:
        a.opened_at = now
    session.flush()
    return {
        "review": review_json(review),
        "assignment": _summary(a, sub.number, review.status, rnd, due, now),
    }, submit


def request_extra(
    session: Session, caller: Caller, assignment: str, roster: Roster, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """One more submission for a learner who finished every review they have (a late
    submitter, given none because the only new work was their own, may ask too)."""
    if caller.role != "learner":
        raise APIError(403, "reviewers_only", "Extra reviews are for the round's reviewers.")
    rnd = find_round(session, caller.course, assignment, lock=True)
    due = due_for(session, rnd, caller.user_id)
    if not reviewing_open(rnd, due, now):
        raise APIError(409, "round_closed", f"Reviewing {assignment!r} is over.")
    people = RoundPeople(session, rnd, roster)
    mine = [a for a in people.assignments if a.reviewer_id == caller.user_id]
    active = [a for a in mine if a.state == "active"]
    author = any(s.author_id == caller.user_id for s in people.submissions)
    if not active and not author:  # a late submitter may have had nothing to review yet
        raise APIError(
            403,
            "not_a_reviewer",
            "You have no submission and no reviews in this round; extra reviews are for its "
            "reviewers.",
        )
    ids = [a.id for a in people.assignments if a.state == "active"]
    submitted = {
        r.assignment_id
        for r in session.scalars(
            select(Review).where(Review.assignment_id.in_(ids), Review.status == "submitted")
        )
    }
    if unfinished := sorted(
        people.number[a.submission_id] for a in active if a.id not in submitted
    ):
        raise APIError(
            409,
            "reviews_unfinished",
            "Submit the reviews you have first ("
            + ", ".join(pseudonym(n) for n in unfinished)
            + ").",
        )
    completed: dict[str, int] = {}
    for a in people.assignments:
        if a.id in submitted:
            key = str(people.number[a.submission_id])
            completed[key] = completed.get(key, 0) + 1
    try:
        pair = extra_review(
            Reviewer(caller.name, cohort_of(roster, caller.name)),
            people.allocation(),
            people.subs(),
            completed=completed,
            seed=rnd.seed,
            constraints=constraints(rnd),
            past=people.past(),
        )
    except AllocationError as e:
        raise APIError(409, e.code, e.message) from None
    add_assignments(session, people, [pair], now, extra=True)
    a, sub = _mine(session, caller, rnd, int(pair.submission))
    return {"assignment": _summary(a, sub.number, None, rnd, due, now)}, []


def reviews_of(session: Session, caller: Caller, assignment: str, number: int) -> dict[str, Any]:
    """The reviews of one submission. Staff: all, with reviewers' names. Its author and the
    reviewers who submitted one: the submitted reviews once the instructor has released
    them (not those the instructor excluded), reviewers named only if names are turned on.
    Anyone else: 404."""
    rnd = find_round(session, caller.course, assignment)
    sub = _submission(session, rnd, number)
    rows = session.execute(
        select(ReviewAssignment, Review)
        .join(Review, Review.assignment_id == ReviewAssignment.id)
        .where(ReviewAssignment.submission_id == sub.id)
        .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id)
    ).all()
    if caller.is_staff:
        names = names_of(session, {a.reviewer_id for a, _r in rows} | {sub.author_id})
        return {
            "submission": {"number": sub.number, "name": pseudonym(sub.number)},
            "author": names[sub.author_id],
            "reviews": [
                {"reviewer": names[a.reviewer_id], "state": a.state, **(review_json(r) or {})}
                for a, r in rows
            ],
        }
    mine = [a for a, r in rows if a.reviewer_id == caller.user_id and r.status == "submitted"]
    if sub.author_id != caller.user_id and not mine:
        raise _no_submission(rnd, number)
    if not rnd.released:
        raise APIError(
            403,
            "not_released",
            "Reviews are shown once the instructor releases them.",
        )
    excluded = set(
        session.scalars(select(ReviewExclusion.review_id).where(ReviewExclusion.round_id == rnd.id))
    )
    submitted = [(a, r) for a, r in rows if r.status == "submitted" and r.id not in excluded]
    names = names_of(session, {a.reviewer_id for a, _r in submitted}) if rnd.names_visible else {}
    out = []
    for a, r in submitted:
        item = {**(review_json(r) or {}), "mine": a.reviewer_id == caller.user_id}
        if rnd.names_visible:
            item["reviewer"] = names[a.reviewer_id]
        out.append(item)
    return {"submission": {"number": sub.number, "name": pseudonym(sub.number)}, "reviews": out}
