"""Peer review rounds in the database, the instructor's side: open (upload), change, extend,
and the staff view with identities.

Opening a round is an upload in three steps, so 300 real-size notebooks need not travel in
one request, yet a failed ``review open`` leaves no round behind:

1. :func:`start_upload` takes the settings, the rubric and the user names of every submission
   the CLI found; it answers who still needs uploading (authors already in the round are
   skipped: re-runs duplicate nothing), who is left out (not a learner of the course), and the
   key to hash cell ids with. It also plans the allocation, so "k too large" comes before a
   single notebook is sent;
2. :func:`stage` keeps one checked anonymous submission aside (invisible to everyone);
3. :func:`commit_upload` creates or extends the round in one transaction: settings, rubric,
   submissions numbered "Submission N" in secret order, and the allocation
   (``allocate_reviewers`` the first time, ``extend_allocation`` on re-runs).

Functions take a session and a :class:`~cohortlab.access.Caller` and return JSON-ready data;
the handler runs each in one transaction. Times are the service's ``now``.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access import Caller, require_instructor
from ..errors import APIError
from ..store.reviews import (
    Review,
    ReviewAssignment,
    ReviewCriterion,
    ReviewNotebook,
    ReviewRound,
    ReviewSubmission,
    ReviewUpload,
    ReviewUploadItem,
)
from .allocation import (
    Allocation,
    AllocationError,
    Constraints,
    Reviewer,
    Submission,
    allocate_reviewers,
    extend_allocation,
)
from .anonymize import number_submissions
from .rubric import (
    DEFAULTS,
    RULES,
    Criterion,
    pack,
    parse_authors,
    parse_criteria,
    parse_due,
    parse_seed,
    parse_settings,
)
from .state import (
    Roster,
    RoundPeople,
    add_assignments,
    cohort_of,
    copy_key,
    criteria,
    describe_round,
    round_or_none,
    team_of,
    user_ids,
)

UPLOAD_FIELDS = {"k", "due_at", "lease_hours", *RULES, "balance", "seed", "criteria"}


# --- opening: start, stage, commit ------------------------------------------------------------


def start_upload(
    session: Session, caller: Caller, assignment: str, body: dict[str, Any], roster: Roster
) -> dict[str, Any]:
    """Begin an upload for ``assignment``: check everything that can be checked before any
    notebook travels, and say which submissions to send."""
    require_instructor(caller, "open peer review rounds")
    unknown = sorted(set(body) - UPLOAD_FIELDS - {"authors"})
    if unknown:
        raise APIError(
            400,
            "invalid_field",
            f"Unknown field(s): {', '.join(unknown)}; send authors and any of "
            f"{', '.join(sorted(UPLOAD_FIELDS))}.",
        )
    authors = parse_authors(body.get("authors"))
    settings = parse_settings(body)
    seed = parse_seed(body.get("seed"))
    if "criteria" in body:
        settings["criteria"] = [c.as_json() for c in parse_criteria(body["criteria"])]
    rnd = round_or_none(session, caller.course, assignment)
    in_round: dict[str, int] = {}
    if rnd is not None:
        _check_compatible(session, rnd, settings, seed)
        seed = rnd.seed
        people = RoundPeople(session, rnd, roster)
        in_round = {people.names[s.author_id]: s.number for s in people.submissions}
    seed = seed or secrets.token_hex(16)
    learners = {name for name, (role, _c) in roster.items() if role == "learner"}
    to_upload = sorted(a for a in authors if a in learners and a not in in_round)
    left_out = sorted(a for a in authors if a not in learners and a not in in_round)
    merged = _merged(rnd, settings)
    _plan(session, rnd, roster, to_upload, seed, merged)  # refuses now what commit would
    for old in session.scalars(
        select(ReviewUpload.id).where(
            ReviewUpload.course == caller.course, ReviewUpload.assignment == assignment
        )
    ).all():
        _drop_upload(session, old)  # an earlier run that never committed
    upload = ReviewUpload(
        id=uuid.uuid4().hex,
        course=caller.course,
        assignment=assignment,
        settings=settings,
        authors=to_upload,
        seed=seed,
        created_by=caller.user_id,
    )
    session.add(upload)
    session.flush()
    return {
        "upload": {
            "id": upload.id,
            "copy_key": copy_key(seed),
            "round_exists": rnd is not None,
            "to_upload": to_upload,
            "in_round": sorted(in_round),
            "not_learners": left_out,
        }
    }


def stage(
    session: Session,
    caller: Caller,
    assignment: str,
    upload_id: str,
    author: str,
    notebooks: list[dict[str, Any]],
) -> dict[str, Any]:
    """Keep one anonymous submission (already checked by ``rubric.parse_copies``) aside until
    the upload is committed; sending it again replaces it. A notebook's ``content`` may come
    packed already (``rubric.pack``): the handler compresses off the database thread."""
    require_instructor(caller, "upload submissions")
    upload = _find_upload(session, caller.course, assignment, upload_id)
    if author not in upload.authors:
        raise APIError(
            400,
            "not_expected",
            f"This upload does not expect a submission from {author!r}: it is already in the "
            "round, or was not announced as an author when the upload started.",
        )
    session.execute(
        delete(ReviewUploadItem).where(
            ReviewUploadItem.upload_id == upload.id, ReviewUploadItem.author == author
        )
    )
    for position, nb in enumerate(notebooks):
        content = nb["content"] if isinstance(nb["content"], bytes) else pack(nb["content"])
        session.add(
            ReviewUploadItem(
                upload_id=upload.id,
                author=author,
                name=nb["name"],
                position=position,
                content=content,
                size=len(content),
                cells=nb["cells"],
            )
        )
    session.flush()
    return {"staged": {"notebooks": [nb["name"] for nb in notebooks]}}


def commit_upload(
    session: Session,
    caller: Caller,
    assignment: str,
    upload_id: str,
    roster: Roster,
    now: datetime,
) -> tuple[dict[str, Any], list[str]]:
    """Create or extend the round from a complete upload, all in this one transaction;
    ``(summary, reviewers given new work)``."""
    require_instructor(caller, "open peer review rounds")
    upload = _find_upload(session, caller.course, assignment, upload_id)
    staged = set(
        session.scalars(
            select(ReviewUploadItem.author).where(ReviewUploadItem.upload_id == upload.id)
        )
    )
    if missing := [a for a in upload.authors if a not in staged]:
        raise APIError(
            409,
            "upload_incomplete",
            f"{len(missing)} announced submission(s) were not uploaded ({', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}); upload them or start again.",
        )
    rnd = round_or_none(session, caller.course, assignment, lock=True)
    created = rnd is None
    settings = dict(upload.settings)
    if rnd is None:
        rnd = ReviewRound(
            course=caller.course,
            assignment=assignment,
            seed=upload.seed,
            state="open",
            names_visible=False,
            released=False,
            created_by=caller.user_id,
            created_at=now,
        )
        session.add(rnd)
    elif rnd.seed != upload.seed:
        raise _round_changed(assignment)
    else:
        _check_compatible(session, rnd, settings, None)
    merged = _merged(rnd if not created else None, settings)
    rnd.k, rnd.balance = merged["k"], merged["balance"]
    rnd.due_at = parse_due(merged["due_at"], "due_at")
    rnd.lease_hours = merged["lease_hours"]
    rnd.constraints = {rule: merged[rule] for rule in RULES}
    rnd.updated_at = now
    try:
        session.flush()
    except IntegrityError:  # another upload created the round at the same moment
        raise _round_changed(assignment) from None
    if settings.get("criteria") is not None:
        _store_criteria(session, rnd, [Criterion(**c) for c in settings["criteria"]])
    people, numbers, plan = _plan(session, rnd, roster, upload.authors, rnd.seed, merged)
    assert people is not None  # the round has its row by now
    ids = user_ids(session, upload.authors)
    for name in upload.authors:
        sub = ReviewSubmission(
            round_id=rnd.id,
            number=numbers[name],
            author_id=ids[name],
            uploaded_by=caller.user_id,
            created_at=now,
        )
        session.add(sub)
        session.flush()
        # copied inside the database: a round of large notebooks never sits in memory
        item = ReviewUploadItem
        session.execute(
            insert(ReviewNotebook).from_select(
                ["submission_id", "name", "position", "content", "size", "cells"],
                select(
                    literal(sub.id), item.name, item.position, item.content, item.size, item.cells
                ).where(item.upload_id == upload.id, item.author == name),
            )
        )
        people.submissions.append(sub)
        people.by_number[sub.number], people.number[sub.id] = sub, sub.number
        people.names[sub.author_id] = name
    current = people.allocation()
    added = sorted(set(plan.assignments) - set(current.assignments))
    told = add_assignments(session, people, added, now)
    _drop_upload(session, upload.id)
    total = len(people.submissions)
    summary = {
        "round": describe_round(rnd, rnd.due_at, now),
        "created": created,
        "added_submissions": len(upload.authors),
        "added_assignments": len(added),
        "submissions": total,
    }
    return summary, told


def _round_changed(assignment: str) -> APIError:
    return APIError(
        409,
        "round_changed",
        f"The round for {assignment!r} was opened by another upload meanwhile; run "
        "cohortlab review open again.",
    )


def discard_upload(session: Session, caller: Caller, assignment: str, upload_id: str) -> None:
    require_instructor(caller, "discard uploads")
    _drop_upload(session, _find_upload(session, caller.course, assignment, upload_id).id)


def _find_upload(session: Session, course: str, assignment: str, upload_id: str) -> ReviewUpload:
    upload = session.get(ReviewUpload, upload_id)
    if upload is None or (upload.course, upload.assignment) != (course, assignment):
        raise APIError(
            404,
            "unknown_upload",
            "No such upload in progress (it was committed, discarded, or replaced by a newer "
            "run); run cohortlab review open again.",
        )
    return upload


def _drop_upload(session: Session, upload_id: str) -> None:
    session.execute(delete(ReviewUploadItem).where(ReviewUploadItem.upload_id == upload_id))
    session.execute(delete(ReviewUpload).where(ReviewUpload.id == upload_id))


def _merged(rnd: ReviewRound | None, settings: dict[str, Any]) -> dict[str, Any]:
    if rnd is None:
        base: dict[str, Any] = {**DEFAULTS, **dict.fromkeys(RULES, False)}
    else:
        base = {
            "k": rnd.k,
            "due_at": rnd.due_at.isoformat() if rnd.due_at else None,
            "lease_hours": rnd.lease_hours,
            **{rule: bool(rnd.constraints.get(rule)) for rule in RULES},
            "balance": rnd.balance,
        }
    return {**base, **{k: v for k, v in settings.items() if k in base}}


def _check_compatible(
    session: Session, rnd: ReviewRound, settings: dict[str, Any], seed: str | None
) -> None:
    """A re-run may add submissions, raise k and move dates; it may not undo allocations."""
    if settings.get("k", rnd.k) < rnd.k:
        raise APIError(
            409,
            "k_lowered",
            f"The round gives each submission {rnd.k} reviews; reviews already given stay, so "
            f"k cannot go down to {settings['k']}. Ask for {rnd.k} or more.",
        )
    for rule, what in (("across_cohorts", "cohort"), ("separate_teams", "team")):
        if settings.get(rule, bool(rnd.constraints.get(rule))) != bool(rnd.constraints.get(rule)):
            raise APIError(
                409,
                "constraints_changed",
                f"The round's {what} rule ({rule}) cannot change once reviewers are allocated; "
                f"run it again {'with' if rnd.constraints.get(rule) else 'without'} "
                f"--{rule.replace('_', '-')}.",
            )
    if seed is not None and seed != rnd.seed:
        raise APIError(409, "seed_changed", "The round already has its seed; it cannot change.")
    if settings.get("criteria") is not None:
        wanted = [Criterion(**c) for c in settings["criteria"]]
        if wanted != criteria(session, rnd) and _has_reviews(session, rnd):
            raise APIError(
                409,
                "rubric_locked",
                "Reviewers have already scored this round's rubric; it cannot change now.",
            )


def _has_reviews(session: Session, rnd: ReviewRound) -> bool:
    query = (
        select(Review.id)
        .join(ReviewAssignment, Review.assignment_id == ReviewAssignment.id)
        .where(ReviewAssignment.round_id == rnd.id)
        .limit(1)
    )
    return session.scalars(query).first() is not None


def _store_criteria(session: Session, rnd: ReviewRound, wanted: list[Criterion]) -> None:
    if wanted == criteria(session, rnd):
        return
    session.execute(delete(ReviewCriterion).where(ReviewCriterion.round_id == rnd.id))
    for position, c in enumerate(wanted):
        session.add(
            ReviewCriterion(
                round_id=rnd.id,
                key=c.key,
                kind=c.kind,
                notebook=c.notebook,
                grade_id=c.grade_id,
                title=c.title,
                description=c.description,
                max_points=c.max_points,
                position=position,
            )
        )
    session.flush()


def _plan(
    session: Session,
    rnd: ReviewRound | None,
    roster: Roster,
    new_authors: list[str],
    seed: str,
    merged: dict[str, Any],
) -> tuple[RoundPeople | None, dict[str, int], Allocation]:
    """The allocation the round would have with ``new_authors`` added (numbers included);
    an impossible one is refused with the allocation's own sentence."""
    people = RoundPeople(session, rnd, roster) if rnd is not None and rnd.id else None
    existing = {people.names[s.author_id]: s.number for s in people.submissions} if people else {}
    numbers = number_submissions(sorted({*existing, *new_authors}), seed, existing=existing)
    subs = [
        Submission(str(numbers[n]), n, cohort_of(roster, n), team_of(roster, n))
        for n in sorted(numbers)
    ]
    reviewers = [
        Reviewer(n, cohort_of(roster, n), team_of(roster, n))
        for n in sorted(numbers)
        if roster.get(n, ("",))[0] == "learner"
    ]
    current = people.allocation() if people else Allocation()
    rules = _rules(merged)
    try:
        if not current.assignments:
            plan = allocate_reviewers(
                subs,
                reviewers,
                merged["k"],
                seed=seed,
                constraints=rules,
                balance=merged["balance"],
            )
        else:
            plan = extend_allocation(
                current, subs, reviewers, merged["k"], seed=seed, constraints=rules
            )
    except AllocationError as e:
        raise APIError(400, e.code, e.message) from None
    return people, numbers, plan


def _rules(merged: dict[str, Any]) -> Constraints:
    return Constraints(**{rule: bool(merged[rule]) for rule in RULES})
