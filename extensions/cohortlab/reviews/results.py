"""A round's outcome, the staff's side: peer scores aggregated per criterion next to
nbgrader's autograde scores, the instructor's overrides and excluded reviews, each reviewer's
agreement, and the flags authors raised.

The scores come from :mod:`cohortlab.reviews.aggregate` (pure); this module feeds it the
submitted, not excluded reviews of a round and lays the result out for the staff view and for
``cohortlab review export``. ``final`` is the override where there is one, else the aggregate.

The aggregate is cached per process and, in the service, computed outside any transaction
(:mod:`cohortlab.reviews.cached`).

Reviews are named by an opaque id (:func:`review_token`, an HMAC of the review's row id under
the round's seed), the same for staff and for the author, so an author who quotes one to
staff is understood and the id says nothing about who wrote it or when.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..access import Caller, require_instructor, require_staff
from ..errors import APIError
from ..store.reviews import (
    Review,
    ReviewAssignment,
    ReviewAutograde,
    ReviewExclusion,
    ReviewFlag,
    ReviewOverride,
    ReviewRating,
    ReviewRound,
    ReviewSubmission,
)
from .aggregate import Aggregate, PeerScore
from .anonymize import pseudonym
from .cached import cached_aggregate
from .rubric import Criterion, _number, _text, _unknown, bad
from .state import criteria, describe_round, find_round, iso, names_of

MAX_REASON = 2000
REVIEW_ID_PURPOSE = b"cohortlab peer review: review ids"


def review_token(seed: str, review_id: int) -> str:
    key = hmac.new(seed.encode(), REVIEW_ID_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, str(review_id).encode(), hashlib.sha256).hexdigest()[:20]


@dataclass
class RoundOutcome:
    """Everything the outcome of a round is computed from, read once."""

    rnd: ReviewRound
    rubric: list[Criterion]
    submissions: list[ReviewSubmission]
    # submitted reviews with their assignment, in the order they were assigned
    reviews: list[tuple[ReviewAssignment, Review]]
    excluded: dict[int, ReviewExclusion]
    overrides: dict[tuple[int, str], ReviewOverride]
    autograde: dict[int, ReviewAutograde]
    tokens: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, rnd: ReviewRound) -> RoundOutcome:
        subs = list(
            session.scalars(
                select(ReviewSubmission)
                .where(ReviewSubmission.round_id == rnd.id)
                .order_by(ReviewSubmission.number)
            )
        )
        rows = session.execute(
            select(ReviewAssignment, Review)
            .join(Review, Review.assignment_id == ReviewAssignment.id)
            .where(ReviewAssignment.round_id == rnd.id, Review.status == "submitted")
            .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id)
        ).all()
        out = cls(
            rnd=rnd,
            rubric=criteria(session, rnd),
            submissions=subs,
            reviews=[(a, r) for a, r in rows],
            excluded={
                e.review_id: e
                for e in session.scalars(
                    select(ReviewExclusion).where(ReviewExclusion.round_id == rnd.id)
                )
            },
            overrides={
                (o.submission_id, o.criterion): o
                for o in session.scalars(
                    select(ReviewOverride).where(ReviewOverride.round_id == rnd.id)
                )
            },
            autograde={
                g.submission_id: g
                for g in session.scalars(
                    select(ReviewAutograde).where(
                        ReviewAutograde.submission_id.in_([s.id for s in subs])
                    )
                )
            }
            if subs
            else {},
        )
        out.tokens = {r.id: review_token(rnd.seed, r.id) for _a, r in out.reviews}
        return out

    @property
    def result(self) -> Aggregate:
        """The aggregate, computed when first needed and kept per process, keyed by exactly
        what it is computed from (so never stale): a round's PG1 fit over a class of a
        thousand takes about a second, and every author reading their feedback after
        release would otherwise redo it. Under :func:`outside_transaction` a missing one
        raises :class:`AggregateNeeded` instead of being computed here."""
        return cached_aggregate(self.peer_scores(), self.max_points(), self.rnd.method)

    def max_points(self) -> dict[str, float]:
        return {c.key: c.max_points for c in self.rubric}

    def counted(self) -> list[tuple[ReviewAssignment, Review]]:
        return [(a, r) for a, r in self.reviews if r.id not in self.excluded]

    def peer_scores(self) -> list[PeerScore]:
        out = []
        for a, r in self.counted():
            for key, entry in r.scores.items():
                score = entry.get("score") if isinstance(entry, Mapping) else None
                if _number(score):
                    out.append(PeerScore(str(a.reviewer_id), str(a.submission_id), key, score))
        return out

    def final(self, sub: ReviewSubmission, key: str) -> float | None:
        override = self.overrides.get((sub.id, key))
        if override is not None:
            return override.score
        return self.result.scores.get((str(sub.id), key))

    def finals(self, sub: ReviewSubmission) -> dict[str, float | None]:
        return {c.key: self.final(sub, c.key) for c in self.rubric}

    def review_by_token(self, token: str) -> tuple[ReviewAssignment, Review]:
        for a, r in self.reviews:
            if hmac.compare_digest(self.tokens[r.id], token):
                return a, r
        raise APIError(
            404,
            "unknown_review",
            f"There is no submitted review {token[:40]!r} in the peer review of "
            f"{self.rnd.assignment!r}.",
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def total(finals: Mapping[str, float | None], rubric: list[Criterion]) -> dict[str, Any]:
    scored = [v for v in finals.values() if v is not None]
    return {
        "score": _rounded(math.fsum(scored)) if scored else None,
        "max": math.fsum(c.max_points for c in rubric),
        "complete": len(scored) == len(rubric),
    }


# --- the staff's results table ----------------------------------------------------------------


def staff_results(session: Session, caller: Caller, assignment: str, now: datetime) -> dict:
    """The results table with identities: for the course's staff only."""
    require_staff(caller, "see peer review results")
    rnd = find_round(session, caller.course, assignment)
    out = RoundOutcome.load(session, rnd)
    flags = list(session.scalars(select(ReviewFlag).where(ReviewFlag.round_id == rnd.id)))
    ratings = {
        r.review_id: r.helpfulness
        for r in session.scalars(select(ReviewRating).where(ReviewRating.round_id == rnd.id))
    }
    assignments = list(
        session.scalars(
            select(ReviewAssignment).where(
                ReviewAssignment.round_id == rnd.id, ReviewAssignment.state == "active"
            )
        )
    )
    people = {s.author_id for s in out.submissions} | {a.reviewer_id for a in assignments}
    people |= {o.set_by for o in out.overrides.values()}
    people |= {e.excluded_by for e in out.excluded.values()}
    names = names_of(session, people)
    by_sub: dict[int, list[tuple[ReviewAssignment, Review]]] = {}
    for a, r in out.reviews:
        by_sub.setdefault(a.submission_id, []).append((a, r))
    open_flags: dict[int, int] = {}
    for f in flags:
        if f.resolved_at is None:
            open_flags[f.review_id] = open_flags.get(f.review_id, 0) + 1
    rows = []
    for sub in out.submissions:
        reviews = by_sub.get(sub.id, [])
        graded = out.autograde.get(sub.id)
        criteria_out = {}
        for c in out.rubric:
            item = (str(sub.id), c.key)
            override = out.overrides.get((sub.id, c.key))
            criteria_out[c.key] = {
                "peer": [
                    {
                        "review": out.tokens[r.id],
                        "reviewer": names[a.reviewer_id],
                        "score": (r.scores.get(c.key) or {}).get("score"),
                        "comment": (r.scores.get(c.key) or {}).get("comment", ""),
                        "excluded": r.id in out.excluded,
                    }
                    for a, r in reviews
                ],
                "aggregate": _rounded(out.result.scores.get(item)),
                "spread": _rounded(out.result.spread.get(item)),
                "autograde": graded.scores.get(c.key) if graded else None,
                "override": _override_json(override, names) if override else None,
                "final": _rounded(out.final(sub, c.key)),
            }
        finals = out.finals(sub)
        rows.append(
            {
                "number": sub.number,
                "name": pseudonym(sub.number),
                "author": names[sub.author_id],
                "reviews": [
                    {
                        "id": out.tokens[r.id],
                        "reviewer": names[a.reviewer_id],
                        "comment": r.comment,
                        "cell_comments": len(r.cell_comments),
                        "submitted_at": iso(r.submitted_at),
                        "excluded": _exclusion_json(out.excluded[r.id], names)
                        if r.id in out.excluded
                        else None,
                        "helpfulness": ratings.get(r.id),
                        "open_flags": open_flags.get(r.id, 0),
                    }
                    for a, r in reviews
                ],
                "reviews_counted": sum(1 for _a, r in reviews if r.id not in out.excluded),
                "criteria": criteria_out,
                "autograde": {"total": graded.total, "max": graded.max_total} if graded else None,
                "total": total(finals, out.rubric),
            }
        )
    return {
        "round": describe_round(rnd, rnd.due_at, now),
        "method": rnd.method,
        "rubric": [c.as_json() for c in out.rubric],
        "submissions": rows,
        "reviewers": _reviewers(out, assignments, names, ratings, open_flags),
        "open_flags": sum(open_flags.values()),
    }


def _reviewers(
    out: RoundOutcome,
    assignments: list[ReviewAssignment],
    names: dict[int, str],
    ratings: dict[int, int],
    open_flags: dict[int, int],
) -> list[dict[str, Any]]:
    stats: dict[int, dict[str, Any]] = {}
    for a in assignments:
        entry = stats.setdefault(
            a.reviewer_id, {"assigned": 0, "done": 0, "excluded": 0, "flags": 0, "rated": []}
        )
        entry["assigned"] += 1
    for a, r in out.reviews:
        entry = stats.setdefault(
            a.reviewer_id, {"assigned": 0, "done": 0, "excluded": 0, "flags": 0, "rated": []}
        )
        entry["done"] += 1
        entry["excluded"] += r.id in out.excluded
        entry["flags"] += open_flags.get(r.id, 0)
        if r.id in ratings:
            entry["rated"].append(ratings[r.id])
    rows = []
    for uid, entry in stats.items():
        fit = out.result.reviewers.get(str(uid))
        rows.append(
            {
                "user": names[uid],
                "reviews_assigned": entry["assigned"],
                "reviews_done": entry["done"],
                "reviews_excluded": entry["excluded"],
                "agreement": _rounded(fit.agreement) if fit else None,
                "bias": _rounded(fit.bias) if fit and out.rnd.method == "pg1" else None,
                "precision": _rounded(fit.precision) if fit and fit.precision else None,
                "open_flags": entry["flags"],
                "helpfulness": _rounded(sum(entry["rated"]) / len(entry["rated"]))
                if entry["rated"]
                else None,
                "ratings": len(entry["rated"]),
            }
        )
    return sorted(rows, key=lambda row: row["user"])


def _override_json(o: ReviewOverride, names: dict[int, str]) -> dict[str, Any]:
    return {"score": o.score, "reason": o.reason, "by": names.get(o.set_by), "at": iso(o.set_at)}


def _exclusion_json(e: ReviewExclusion, names: dict[int, str]) -> dict[str, Any]:
    return {"reason": e.reason, "by": names.get(e.excluded_by), "at": iso(e.excluded_at)}


# --- overrides, exclusions, method ------------------------------------------------------------


def _submission(session: Session, rnd: ReviewRound, number: int) -> ReviewSubmission:
    sub = session.scalars(
        select(ReviewSubmission).where(
            ReviewSubmission.round_id == rnd.id, ReviewSubmission.number == number
        )
    ).one_or_none()
    if sub is None:
        raise APIError(
            404, "unknown_submission", f"The peer review of {rnd.assignment!r} has no {number}."
        )
    return sub


def _criterion(session: Session, rnd: ReviewRound, key: str) -> Criterion:
    rubric = criteria(session, rnd)
    found = next((c for c in rubric if c.key == key), None)
    if found is None:
        raise APIError(
            404,
            "unknown_criterion",
            f"The rubric has no criterion {key[:80]!r}; it has: "
            f"{', '.join(c.key for c in rubric) or 'none'}.",
        )
    return found


def parse_reason(body: Mapping[str, Any], allowed: set[str], what: str) -> str:
    _unknown(body, allowed, what)
    return _text(body.get("reason"), "reason", MAX_REASON)


def set_override(
    session: Session,
    caller: Caller,
    assignment: str,
    number: int,
    key: str,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The instructor's score for one criterion of one submission, in place of the peers'."""
    require_instructor(caller, "override peer review scores")
    reason = parse_reason(body, {"score", "reason"}, "the override")
    rnd = find_round(session, caller.course, assignment)
    sub = _submission(session, rnd, number)
    criterion = _criterion(session, rnd, key)
    score = body.get("score")
    if not _number(score) or not 0 <= score <= criterion.max_points:
        raise bad(
            "score_out_of_range",
            f"The score for {criterion.title!r} must be a number from 0 to "
            f"{criterion.max_points:g}.",
        )
    row = session.scalars(
        select(ReviewOverride).where(
            ReviewOverride.submission_id == sub.id, ReviewOverride.criterion == key
        )
    ).one_or_none()
    if row is None:
        row = ReviewOverride(round_id=rnd.id, submission_id=sub.id, criterion=key)
        session.add(row)
    row.score, row.reason, row.set_by, row.set_at = float(score), reason, caller.user_id, now
    session.flush()
    return {
        "submission": number,
        "criterion": key,
        "override": _override_json(row, {caller.user_id: caller.name}),
    }


def clear_override(
    session: Session, caller: Caller, assignment: str, number: int, key: str
) -> None:
    require_instructor(caller, "override peer review scores")
    rnd = find_round(session, caller.course, assignment)
    sub = _submission(session, rnd, number)
    gone = session.execute(
        delete(ReviewOverride).where(
            ReviewOverride.submission_id == sub.id, ReviewOverride.criterion == key
        )
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise APIError(404, "no_override", f"{pseudonym(number)} has no override for {key[:80]!r}.")


def exclude_review(
    session: Session,
    caller: Caller,
    assignment: str,
    token: str,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Leave one review out of the scores and of its author's feedback (kept, not deleted)."""
    require_instructor(caller, "exclude reviews")
    reason = parse_reason(body, {"reason"}, "the exclusion")
    rnd = find_round(session, caller.course, assignment)
    _a, review = RoundOutcome.load(session, rnd).review_by_token(token)
    row = session.get(ReviewExclusion, review.id)
    if row is None:
        row = ReviewExclusion(review_id=review.id, round_id=rnd.id)
        session.add(row)
    row.reason, row.excluded_by, row.excluded_at = reason, caller.user_id, now
    session.flush()
    return {"review": token, "excluded": _exclusion_json(row, {caller.user_id: caller.name})}


def include_review(session: Session, caller: Caller, assignment: str, token: str) -> None:
    require_instructor(caller, "exclude reviews")
    rnd = find_round(session, caller.course, assignment)
    _a, review = RoundOutcome.load(session, rnd).review_by_token(token)
    row = session.get(ReviewExclusion, review.id)
    if row is None:
        raise APIError(404, "not_excluded", "That review is not excluded.")
    session.delete(row)


# --- nbgrader's autograde scores --------------------------------------------------------------


def record_autograde(
    session: Session, caller: Caller, assignment: str, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Store nbgrader's scores per author (``cohortlab review open`` sends them), so the
    results show them beside the peers'. Authors not in the round are listed, not stored."""
    require_instructor(caller, "record autograde scores")
    _unknown(body, {"submissions"}, "the autograde scores")
    given = body.get("submissions")
    if not isinstance(given, Mapping) or len(given) > 20000:
        raise bad(
            "invalid_field",
            'Send {"submissions": {"<user>": {"scores": {"<criterion>": n | null}, '
            '"total": n | null, "max_total": n | null}}}.',
        )
    rnd = find_round(session, caller.course, assignment)
    keys = {c.key for c in criteria(session, rnd)}
    parsed: dict[str, tuple[dict[str, float | None], float | None, float | None]] = {}
    for user, entry in given.items():
        if not isinstance(entry, Mapping):
            raise bad("invalid_field", f"submissions[{user!r}] must be an object.")
        _unknown(entry, {"scores", "total", "max_total"}, f"submissions[{user!r}]")
        scores = entry.get("scores") or {}
        if not isinstance(scores, Mapping) or not all(
            k in keys and (v is None or _number(v)) for k, v in scores.items()
        ):
            raise bad(
                "invalid_field",
                f"submissions[{user!r}].scores must map rubric criteria to numbers or null.",
            )
        numbers = [entry.get("total"), entry.get("max_total")]
        if not all(n is None or _number(n) for n in numbers):
            raise bad("invalid_field", f"submissions[{user!r}] total and max_total: numbers.")
        parsed[user] = (dict(scores), numbers[0], numbers[1])
    subs = list(
        session.scalars(select(ReviewSubmission).where(ReviewSubmission.round_id == rnd.id))
    )
    names = names_of(session, {s.author_id for s in subs})
    by_name = {names[s.author_id]: s for s in subs}
    for user, (scores, value, most) in parsed.items():
        if user in by_name:
            sub = by_name[user]
            row = session.get(ReviewAutograde, sub.id) or ReviewAutograde(submission_id=sub.id)
            row.scores, row.total, row.max_total, row.updated_at = scores, value, most, now
            session.add(row)
    session.flush()
    return {
        "stored": sum(1 for u in parsed if u in by_name),
        "not_in_round": sorted(u for u in parsed if u not in by_name),
    }
