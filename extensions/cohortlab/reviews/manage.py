"""Peer review rounds, the staff's side after opening: change a round, grant extensions, and
the views with identities (who wrote what, who reviews whom, how far each review has got).

Only the course's staff reach these views (``reviewing`` sends learners elsewhere); changes are
for instructors. The seed never appears in any of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import Caller, require_instructor
from ..errors import APIError
from ..store import personal
from ..store.models import User
from ..store.reviews import (
    Review,
    ReviewAssignment,
    ReviewExtension,
    ReviewFlag,
    ReviewNotebook,
    ReviewRound,
    ReviewSubmission,
)
from .aggregate import METHODS
from .anonymize import pseudonym
from .rubric import parse_due, parse_settings
from .state import (
    Roster,
    RoundPeople,
    criteria,
    describe_round,
    find_round,
    iso,
    user_ids,
)

# --- changing a round -------------------------------------------------------------------------


def change_round(
    session: Session, caller: Caller, assignment: str, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Move the due date, change the lease, close or reopen reviewing, release feedback, show
    reviewers' names to authors, or choose how scores are aggregated. k and the cohort rule
    change by re-running open."""
    require_instructor(caller, "change peer review rounds")
    allowed = {"due_at", "lease_hours", "method", "names_visible", "released", "state"}
    if not body or set(body) - allowed:
        rerun = {"k", "across_cohorts", "separate_teams"} & set(body)
        hint = (
            " (k, across_cohorts and separate_teams: run cohortlab review open again)"
            if rerun
            else ""
        )
        raise APIError(
            400,
            "invalid_field",
            f"Send any of: {', '.join(sorted(allowed))}{hint}.",
        )
    method = parse_method(body["method"]) if "method" in body else None
    rnd = find_round(session, caller.course, assignment, lock=True)
    if method is not None:
        rnd.method = method
    settings = parse_settings({k: v for k, v in body.items() if k in ("due_at", "lease_hours")})
    for flag in ("names_visible", "released"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise APIError(400, "invalid_settings", f"{flag} must be true or false.")
            setattr(rnd, flag, body[flag])
    if "state" in body:
        if body["state"] not in ("open", "closed"):
            raise APIError(400, "invalid_settings", "state must be open or closed.")
        rnd.state = body["state"]
    if "due_at" in settings:
        rnd.due_at = parse_due(settings["due_at"], "due_at")
    if "lease_hours" in settings:
        rnd.lease_hours = settings["lease_hours"]
        for a in session.scalars(
            select(ReviewAssignment).where(
                ReviewAssignment.round_id == rnd.id,
                ReviewAssignment.state == "active",
                ReviewAssignment.opened_at.is_(None),
            )
        ):
            a.lease_expires_at = (
                a.assigned_at + timedelta(hours=rnd.lease_hours) if rnd.lease_hours else None
            )
    rnd.updated_at = now
    session.flush()
    return {"round": describe_round(rnd, rnd.due_at, now)}


def set_extension(
    session: Session, caller: Caller, assignment: str, user_name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A later due date for one reviewer (the handler checks they are a learner)."""
    require_instructor(caller, "grant extensions")
    if set(body) != {"due_at"}:
        raise APIError(400, "invalid_field", 'Send {"due_at": "<ISO 8601 date-time>"}.')
    due = parse_due(body["due_at"], "due_at")
    if due is None:
        raise APIError(400, "invalid_time", "due_at is required; DELETE removes an extension.")
    rnd = find_round(session, caller.course, assignment)
    user_id = user_ids(session, [user_name])[user_name]
    personal.upsert_for(
        session,
        ReviewExtension,
        ReviewExtension.round_id,
        rnd.id,
        user_id,
        due_at=due,
        granted_by=caller.user_id,
    )
    return {"extension": {"assignment": assignment, "user": user_name, "due_at": iso(due)}}


def remove_extension(session: Session, caller: Caller, assignment: str, user_name: str) -> None:
    require_instructor(caller, "remove extensions")
    rnd = find_round(session, caller.course, assignment)
    if not personal.remove_for(
        session, ReviewExtension, ReviewExtension.round_id, rnd.id, user_name
    ):
        raise APIError(404, "no_extension", f"{user_name} has no extension on {assignment!r}.")


def parse_method(value: Any) -> str:
    if value not in METHODS:
        raise APIError(
            400,
            "invalid_settings",
            f"method must be one of {', '.join(METHODS)} (how peer "
            "scores become one score per criterion; docs/peer-review.md).",
        )
    return value


# --- the staff view ---------------------------------------------------------------------------


def staff_summary(session: Session, rnd: ReviewRound, now: datetime) -> dict[str, Any]:
    """A round in the staff's list: its settings and how far reviewing has got."""

    def count(query: Any) -> int:
        return session.scalar(query) or 0

    active = ReviewAssignment.round_id == rnd.id, ReviewAssignment.state == "active"
    return {
        **describe_round(rnd, rnd.due_at, now),
        "submissions": count(
            select(func.count())
            .select_from(ReviewSubmission)
            .where(ReviewSubmission.round_id == rnd.id)
        ),
        "assignments": count(select(func.count()).select_from(ReviewAssignment).where(*active)),
        "reviews_submitted": count(
            select(func.count())
            .select_from(Review)
            .join(ReviewAssignment, Review.assignment_id == ReviewAssignment.id)
            .where(*active, Review.status == "submitted")
        ),
        # what the staff panel shows beside each round (one request per round, before)
        "open_flags": count(
            select(func.count())
            .select_from(ReviewFlag)
            .where(ReviewFlag.round_id == rnd.id, ReviewFlag.resolved_at.is_(None))
        ),
    }


def staff_round(
    session: Session, rnd: ReviewRound, roster: Roster, now: datetime
) -> dict[str, Any]:
    """Everything about a round with identities: for the course's staff only."""
    people = RoundPeople(session, rnd, roster)
    ids = [a.id for a in people.assignments]
    reviews = (
        {
            r.assignment_id: r
            for r in session.scalars(select(Review).where(Review.assignment_id.in_(ids)))
        }
        if ids
        else {}
    )
    notebooks: dict[int, list[str]] = {}
    for sid, name in session.execute(
        select(ReviewNotebook.submission_id, ReviewNotebook.name)
        .join(ReviewSubmission, ReviewNotebook.submission_id == ReviewSubmission.id)
        .where(ReviewSubmission.round_id == rnd.id)
        .order_by(ReviewNotebook.position)
    ):
        notebooks.setdefault(sid, []).append(name)
    by_submission: dict[int, list[ReviewAssignment]] = {}
    for a in sorted(people.assignments, key=lambda a: (a.assigned_at, a.id)):
        by_submission.setdefault(a.submission_id, []).append(a)
    loads: dict[str, int] = {r.user: 0 for r in people.reviewers()}
    submissions = []
    for sub in sorted(people.submissions, key=lambda s: s.number):
        rows = []
        for a in by_submission.get(sub.id, []):
            review = reviews.get(a.id)
            name = people.names[a.reviewer_id]
            if a.state == "active":
                loads[name] = loads.get(name, 0) + 1
            rows.append(
                {
                    "user": name,
                    "state": a.state,
                    "extra": a.extra,
                    "assigned_at": iso(a.assigned_at),
                    "opened_at": iso(a.opened_at),
                    "lease_expires_at": iso(a.lease_expires_at),
                    "lease_lapsed": a.state == "active"
                    and a.opened_at is None
                    and a.lease_expires_at is not None
                    and a.lease_expires_at <= now,
                    "expired_at": iso(a.expired_at),
                    "review": review.status if review else None,
                    "submitted_at": iso(review.submitted_at) if review else None,
                }
            )
        submissions.append(
            {
                "number": sub.number,
                "name": pseudonym(sub.number),
                "author": people.names[sub.author_id],
                "notebooks": notebooks.get(sub.id, []),
                "reviewers": rows,
                "reviews_submitted": sum(
                    1 for r in rows if r["state"] == "active" and r["review"] == "submitted"
                ),
            }
        )
    extensions = session.execute(
        select(User.name, ReviewExtension.due_at)
        .join(User, User.id == ReviewExtension.user_id)
        .where(ReviewExtension.round_id == rnd.id)
        .order_by(User.name)
    ).all()
    return {
        "round": {
            **staff_summary(session, rnd, now),
            "balance": rnd.balance,
            "created_at": iso(rnd.created_at),
            "updated_at": iso(rnd.updated_at),
        },
        "rubric": [c.as_json() for c in criteria(session, rnd)],
        "submissions": submissions,
        "loads": dict(sorted(loads.items())),
        "extensions": [{"user": u, "due_at": iso(d)} for u, d in extensions],
    }
