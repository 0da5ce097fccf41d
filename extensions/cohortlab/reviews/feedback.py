"""A round's outcome, the author's side: my feedback once the instructor releases it, my rating
of each review's helpfulness, and flagging a review as inappropriate; and the staff's list of
flags, which they resolve.

What an author learns is built here and names nobody: reviews are "Review 1..n" with an opaque
id (``results.review_token``), the reviewer's name only when the instructor turned names on,
and excluded reviews are not shown at all. Nobody but the author reaches their feedback: any
other caller, staff included, has no submission of their own in the round and gets the same
404 as a learner who submitted nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Caller, require_staff
from ..errors import APIError
from ..store.reviews import (
    Review,
    ReviewAssignment,
    ReviewFlag,
    ReviewRating,
    ReviewRound,
    ReviewSubmission,
)
from .anonymize import pseudonym
from .results import MAX_REASON, RoundOutcome, total
from .reviewing import _copies
from .rubric import _text, _unknown, bad
from .state import find_round, iso, names_of


def _my_submission(session: Session, caller: Caller, rnd: ReviewRound) -> ReviewSubmission:
    """The caller's submission in the round, once released; 404, then 403, otherwise."""
    sub = session.scalars(
        select(ReviewSubmission).where(
            ReviewSubmission.round_id == rnd.id, ReviewSubmission.author_id == caller.user_id
        )
    ).one_or_none()
    if sub is None:
        raise APIError(
            404,
            "no_submission",
            f"You have no submission in the peer review of {rnd.assignment!r}.",
        )
    if not rnd.released:
        raise APIError(
            403, "not_released", "Your feedback is shown once the instructor releases it."
        )
    return sub


def _shown(out: RoundOutcome, sub: ReviewSubmission) -> list[tuple[ReviewAssignment, Review]]:
    return [(a, r) for a, r in out.counted() if a.submission_id == sub.id]


def _item(
    session: Session,
    caller: Caller,
    out: RoundOutcome,
    label: int,
    a: ReviewAssignment,
    r: Review,
    names: Mapping[int, str],
) -> dict[str, Any]:
    rating = session.get(ReviewRating, r.id)
    flagged = session.scalars(
        select(ReviewFlag.id).where(
            ReviewFlag.review_id == r.id, ReviewFlag.flagged_by == caller.user_id
        )
    ).first()
    item: dict[str, Any] = {
        "id": out.tokens[r.id],
        "label": f"Review {label}",
        "scores": r.scores,
        "comment": r.comment,
        "cell_comments": r.cell_comments,
        "helpfulness": rating.helpfulness if rating else None,
        "flagged": flagged is not None,
    }
    if out.rnd.names_visible:
        item["reviewer"] = names[a.reviewer_id]
    return item


def _items(
    session: Session, caller: Caller, out: RoundOutcome, sub: ReviewSubmission
) -> list[dict[str, Any]]:
    shown = _shown(out, sub)
    names = names_of(session, {a.reviewer_id for a, _r in shown}) if out.rnd.names_visible else {}
    return [_item(session, caller, out, i, a, r, names) for i, (a, r) in enumerate(shown, 1)]


def my_feedback(session: Session, caller: Caller, assignment: str) -> dict[str, Any]:
    """My submission with the scores per criterion (final: the instructor's override, else
    the peers' aggregate) and the reviews, with their cell-anchored comments."""
    rnd = find_round(session, caller.course, assignment)
    sub = _my_submission(session, caller, rnd)
    out = RoundOutcome.load(session, rnd)
    finals = out.finals(sub)
    return {
        "assignment": rnd.assignment,
        "submission": {
            "number": sub.number,
            "name": pseudonym(sub.number),
            "notebooks": _copies(session, sub, content=True),
        },
        "rubric": [c.as_json() for c in out.rubric],
        "method": rnd.method,
        "scores": {k: None if v is None else round(v, 4) for k, v in finals.items()},
        "total": total(finals, out.rubric),
        "reviews": _items(session, caller, out, sub),
    }


def _my_review(
    session: Session, caller: Caller, assignment: str, token: str
) -> tuple[RoundOutcome, ReviewSubmission, int, ReviewAssignment, Review]:
    """A shown review of my submission: ``(outcome, submission, label, assignment, review)``;
    any other id (another's review, an excluded one, nonsense) is the same 404."""
    rnd = find_round(session, caller.course, assignment)
    sub = _my_submission(session, caller, rnd)
    out = RoundOutcome.load(session, rnd)
    for label, (a, r) in enumerate(_shown(out, sub), 1):
        if out.tokens[r.id] == token:
            return out, sub, label, a, r
    raise APIError(
        404, "unknown_review", f"There is no review {token[:40]!r} of your {pseudonym(sub.number)}."
    )


def rate_review(
    session: Session,
    caller: Caller,
    assignment: str,
    token: str,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The author's rating of how helpful a review was (1-5); rating again replaces it."""
    _unknown(body, {"helpfulness"}, "the rating")
    value = body.get("helpfulness")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise bad("invalid_rating", "helpfulness must be a whole number from 1 to 5.")
    out, _sub, label, a, r = _my_review(session, caller, assignment, token)
    row = session.get(ReviewRating, r.id)
    if row is None:
        row = ReviewRating(review_id=r.id, round_id=out.rnd.id)
        session.add(row)
    row.rated_by, row.helpfulness, row.rated_at = caller.user_id, value, now
    session.flush()
    names = names_of(session, {a.reviewer_id}) if out.rnd.names_visible else {}
    return _item(session, caller, out, label, a, r, names)


def flag_review(
    session: Session,
    caller: Caller,
    assignment: str,
    token: str,
    body: dict[str, Any],
    now: datetime,
) -> tuple[dict[str, Any], int, int]:
    """Report a review of my work as inappropriate, for staff to look at;
    ``(body, flag id, submission number)``."""
    _unknown(body, {"reason"}, "the flag")
    reason = _text(body.get("reason"), "reason", MAX_REASON, required=True)
    out, sub, label, a, r = _my_review(session, caller, assignment, token)
    if session.scalars(
        select(ReviewFlag.id).where(
            ReviewFlag.review_id == r.id, ReviewFlag.flagged_by == caller.user_id
        )
    ).first():
        raise APIError(409, "already_flagged", "You have flagged this review already.")
    flag = ReviewFlag(
        round_id=out.rnd.id,
        review_id=r.id,
        flagged_by=caller.user_id,
        reason=reason,
        created_at=now,
        resolution="",
    )
    session.add(flag)
    session.flush()
    names = names_of(session, {a.reviewer_id}) if out.rnd.names_visible else {}
    body_out = {
        "review": _item(session, caller, out, label, a, r, names),
        "flag": {"reason": reason, "created_at": iso(now), "resolved": False},
    }
    return body_out, flag.id, sub.number


# --- flags, the staff's side ------------------------------------------------------------------


def _flag_json(
    f: ReviewFlag, out: RoundOutcome, numbers: Mapping[int, int], names: Mapping[int, str]
) -> dict[str, Any]:
    a = next(a for a, r in out.reviews if r.id == f.review_id)
    return {
        "id": f.id,
        "submission": numbers[a.submission_id],
        "review": out.tokens[f.review_id],
        "author": names[f.flagged_by],
        "reviewer": names[a.reviewer_id],
        "reason": f.reason,
        "created_at": iso(f.created_at),
        "resolved": f.resolved_at is not None,
        "resolved_by": names.get(f.resolved_by) if f.resolved_by else None,
        "resolved_at": iso(f.resolved_at),
        "resolution": f.resolution,
        "excluded": f.review_id in out.excluded,
    }


def list_flags(session: Session, caller: Caller, assignment: str) -> dict[str, Any]:
    """Every flag in the round, open ones first, with who flagged whose review."""
    require_staff(caller, "see flagged reviews")
    rnd = find_round(session, caller.course, assignment)
    out = RoundOutcome.load(session, rnd)
    flags = list(session.scalars(select(ReviewFlag).where(ReviewFlag.round_id == rnd.id)))
    return {"flags": _flags_json(session, out, flags)}


def _flags_json(
    session: Session, out: RoundOutcome, flags: list[ReviewFlag]
) -> list[dict[str, Any]]:
    numbers = {s.id: s.number for s in out.submissions}
    people = {f.flagged_by for f in flags} | {f.resolved_by for f in flags if f.resolved_by}
    people |= {a.reviewer_id for a, _r in out.reviews}
    names = names_of(session, people)
    rows = [_flag_json(f, out, numbers, names) for f in flags]
    return sorted(rows, key=lambda f: (f["resolved"], f["created_at"], f["id"]))


def resolve_flag(
    session: Session,
    caller: Caller,
    assignment: str,
    flag_id: int,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Mark a flag resolved (with a note) or open again. Excluding the review is a separate
    step for an instructor (``results.exclude_review``)."""
    require_staff(caller, "resolve flagged reviews")
    _unknown(body, {"resolved", "resolution"}, "the flag")
    resolved = body.get("resolved", True)
    if not isinstance(resolved, bool):
        raise bad("invalid_field", "resolved must be true or false.")
    note = _text(body.get("resolution"), "resolution", MAX_REASON)
    rnd = find_round(session, caller.course, assignment)
    flag = session.get(ReviewFlag, flag_id)
    if flag is None or flag.round_id != rnd.id:
        raise APIError(
            404, "unknown_flag", f"The peer review of {assignment!r} has no flag {flag_id}."
        )
    flag.resolved_by = caller.user_id if resolved else None
    flag.resolved_at = now if resolved else None
    if "resolution" in body:
        flag.resolution = note
    session.flush()
    out = RoundOutcome.load(session, rnd)
    return {"flag": _flags_json(session, out, [flag])[0]}
