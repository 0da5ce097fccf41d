"""A round as stored, as the allocation functions see it, and its leases settled.

Shared by the instructor's side (:mod:`cohortlab.reviews.records`) and the reviewer's side
(:mod:`cohortlab.reviews.reviewing`). The allocation works on user names and pseudonymous
submission ids (the submission's number, as text); this module translates rows to those and
back, and keeps the round's seed inside the service.

Leases are settled lazily, like a quiz's deadline: whenever a reviewer's list or the staff
view is read, assignments not opened within ``lease_hours`` go to someone else through
:func:`~cohortlab.reviews.allocation.reallocate_expired`. The round's row is locked first
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one writer), so two readers never
reallocate the same lease twice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cohorts.teams import TEAM_PREFIX, TeamState
from ..errors import APIError
from ..store.models import User
from ..store.reviews import (
    ReviewAssignment,
    ReviewCriterion,
    ReviewExtension,
    ReviewRound,
    ReviewSubmission,
)
from .allocation import (
    Allocation,
    AllocationError,
    Assignment,
    Constraints,
    Reviewer,
    Submission,
    reallocate_expired,
)
from .rubric import Criterion

log = logging.getLogger(__name__)

Roster = Mapping[str, tuple[str, frozenset[str]]]  # user name -> (role, cohorts in the course)
COPY_KEY_PURPOSE = b"cohortlab peer review: anonymous copies"


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def copy_key(seed: str) -> str:
    """The key ``anonymize_notebook`` hashes cell ids with, derived from the round's seed, so
    the CLI can make copies without the seed (which also fixes the allocation) leaving."""
    return hmac.new(seed.encode(), COPY_KEY_PURPOSE, hashlib.sha256).hexdigest()


def find_round(
    session: Session, course: str, assignment: str, *, lock: bool = False
) -> ReviewRound:
    found = round_or_none(session, course, assignment, lock=lock)
    if found is None:
        raise APIError(
            404, "unknown_round", f"Course {course!r} has no peer review round for {assignment!r}."
        )
    return found


def round_or_none(
    session: Session, course: str, assignment: str, *, lock: bool = False
) -> ReviewRound | None:
    query = select(ReviewRound).where(
        ReviewRound.course == course, ReviewRound.assignment == assignment
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def lock(session: Session, rnd: ReviewRound) -> None:
    """Hold the round's row until the transaction ends (no-op on SQLite's single writer)."""
    session.scalars(select(ReviewRound.id).where(ReviewRound.id == rnd.id).with_for_update()).one()


def user_ids(session: Session, names: list[str]) -> dict[str, int]:
    """Rows for ``names``, made for people the service has not seen yet (authors who never
    signed in: nbgrader collected their work all the same)."""
    ids = dict(session.execute(select(User.name, User.id).where(User.name.in_(names))).all())
    for name in names:
        if name not in ids:
            user = User(name=name)
            session.add(user)
            session.flush()
            ids[name] = user.id
    return ids


def names_of(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def constraints(rnd: ReviewRound) -> Constraints:
    return Constraints(
        across_cohorts=bool(rnd.constraints.get("across_cohorts")),
        separate_teams=bool(rnd.constraints.get("separate_teams")),
    )


def cohort_of(roster: Roster, name: str) -> str | None:
    """The cohort the allocation compares; several cohorts of the course join with ``+``,
    and ``allocation`` keeps a reviewer off the work of anyone sharing any one of them."""
    entry = roster.get(name)
    return "+".join(sorted(entry[1])) if entry and entry[1] else None


def team_of(roster: Roster, name: str) -> str | None:
    """The team the allocation compares (``cohort/team``); several teams join with ``+``,
    and ``allocation`` keeps a reviewer off the work of anyone sharing any one of them. A
    roster without teams (:class:`TeamRoster`) puts nobody in a team."""
    teams = getattr(roster, "teams", None) or {}
    found = teams.get(name)
    return "+".join(sorted(found)) if found else None


class TeamRoster(dict[str, tuple[str, frozenset[str]]]):
    """The course's roster (name -> (role, cohorts)) that also knows each person's teams in
    the course (``teams``: name -> ``{"cohort/team", ...}``). Peer review alone reads teams,
    so the roster every other domain shares stays as it is."""

    def __init__(
        self, members: Mapping[str, tuple[str, frozenset[str]]], teams: Mapping[str, frozenset]
    ) -> None:
        super().__init__(members)
        self.teams = dict(teams)


def course_teams(
    course: str,
    group_users: Mapping[str, Iterable[str]],
    group_properties: Mapping[str, Mapping[str, Any]],
) -> dict[str, frozenset[str]]:
    """name -> the teams (``cohort/team``) they are in, in ``course``: hub groups whose
    properties say ``{"cohortlab": {"kind": "team", ...}}`` and whose name matches them
    (``cohorts.teams.TeamState.from_group``, the test live quizzes apply too)."""
    out: dict[str, set[str]] = {}
    for group, props in group_properties.items():
        if not group.startswith(TEAM_PREFIX):
            continue
        model = {"name": group, "properties": props, "users": list(group_users.get(group, ()))}
        team = TeamState.from_group(model)
        if team is not None and team.course == course:
            for name in team.members:
                out.setdefault(name, set()).add(f"{team.cohort}/{team.name}")
    return {name: frozenset(teams) for name, teams in out.items()}


def criteria(session: Session, rnd: ReviewRound) -> list[Criterion]:
    rows = session.scalars(
        select(ReviewCriterion)
        .where(ReviewCriterion.round_id == rnd.id)
        .order_by(ReviewCriterion.position)
    )
    return [
        Criterion(r.key, r.kind, r.title, r.max_points, r.description, r.notebook, r.grade_id)
        for r in rows
    ]


def due_for(session: Session, rnd: ReviewRound, user_id: int) -> datetime | None:
    """The round's due date for one reviewer, their extension applied."""
    extension = session.scalars(
        select(ReviewExtension.due_at).where(
            ReviewExtension.round_id == rnd.id, ReviewExtension.user_id == user_id
        )
    ).one_or_none()
    return extension or rnd.due_at


def reviewing_open(rnd: ReviewRound, due: datetime | None, now: datetime) -> bool:
    return rnd.state == "open" and (due is None or now < due)


class RoundPeople:
    """The round's submissions and assignments as the allocation sees them."""

    def __init__(self, session: Session, rnd: ReviewRound, roster: Roster) -> None:
        self.rnd = rnd
        self.submissions = list(
            session.scalars(select(ReviewSubmission).where(ReviewSubmission.round_id == rnd.id))
        )
        self.assignments = list(
            session.scalars(select(ReviewAssignment).where(ReviewAssignment.round_id == rnd.id))
        )
        ids = {s.author_id for s in self.submissions} | {a.reviewer_id for a in self.assignments}
        self.names = names_of(session, ids)
        self.number = {s.id: s.number for s in self.submissions}
        self.by_number = {s.number: s for s in self.submissions}
        self.roster = roster

    def subs(self) -> list[Submission]:
        out = []
        for s in self.submissions:
            name = self.names[s.author_id]
            out.append(
                Submission(
                    str(s.number), name, cohort_of(self.roster, name), team_of(self.roster, name)
                )
            )
        return out

    def reviewers(self, leave_out: frozenset[str] | set[str] = frozenset()) -> list[Reviewer]:
        """Who may be given work: the authors who are learners of the course now."""
        authors = sorted(self.names[s.author_id] for s in self.submissions)
        return [
            Reviewer(name, cohort_of(self.roster, name), team_of(self.roster, name))
            for name in authors
            if self.roster.get(name, ("",))[0] == "learner" and name not in leave_out
        ]

    def pair(self, a: ReviewAssignment) -> Assignment:
        return Assignment(str(self.number[a.submission_id]), self.names[a.reviewer_id])

    def allocation(self) -> Allocation:
        return Allocation(tuple(self.pair(a) for a in self.assignments if a.state == "active"))

    def past(self) -> list[Assignment]:
        return [self.pair(a) for a in self.assignments if a.state == "expired"]


def add_assignments(
    session: Session,
    people: RoundPeople,
    pairs: list[Assignment],
    now: datetime,
    *,
    extra: bool = False,
) -> list[str]:
    """Store new assignments (leases start now); the reviewers' names, to tell them."""
    rnd = people.rnd
    lease = now + timedelta(hours=rnd.lease_hours) if rnd.lease_hours else None
    ids = user_ids(session, sorted({p.reviewer for p in pairs}))
    existing = {(a.submission_id, a.reviewer_id): a for a in people.assignments}
    for pair in pairs:
        sub = people.by_number[int(pair.submission)]
        row = existing.get((sub.id, ids[pair.reviewer]))
        if row is None:  # a lapsed reviewer topped up by a larger k gets the same row back
            row = ReviewAssignment(
                round_id=rnd.id, submission_id=sub.id, reviewer_id=ids[pair.reviewer]
            )
            session.add(row)
            people.assignments.append(row)
        row.state, row.extra, row.assigned_at = "active", extra, now
        row.opened_at, row.lease_expires_at, row.expired_at = None, lease, None
    session.flush()
    return sorted({p.reviewer for p in pairs})


def settle_leases(session: Session, rnd: ReviewRound, roster: Roster, now: datetime) -> list[str]:
    """Give every lapsed lease to another reviewer; the names of those given work.

    Nothing moves once reviewing is over (closed, or past the round's due date), or if the
    round has no lease. Whoever let a lease lapse takes no new work. If any lapsed review has
    nobody left to go to, nothing moves (``reallocate_expired`` is all or nothing) and the
    staff view shows the lapsed leases; reading never fails for it.
    """
    if rnd.state != "open" or rnd.lease_hours is None or (rnd.due_at and now >= rnd.due_at):
        return []
    lapsed = (
        select(ReviewAssignment)
        .where(
            ReviewAssignment.round_id == rnd.id,
            ReviewAssignment.state == "active",
            ReviewAssignment.opened_at.is_(None),
            ReviewAssignment.lease_expires_at <= now,
        )
        .order_by(ReviewAssignment.id)
    )
    if session.scalars(lapsed.limit(1)).first() is None:
        return []
    lock(session, rnd)
    expired = list(session.scalars(lapsed))  # again, now that no one else can move them
    if not expired:
        return []
    people = RoundPeople(session, rnd, roster)
    lapsers = {people.names[a.reviewer_id] for a in expired} | {p.reviewer for p in people.past()}
    current = people.allocation()
    try:
        moved = reallocate_expired(
            current,
            [people.pair(a) for a in expired],
            people.subs(),
            people.reviewers(leave_out=lapsers),
            seed=rnd.seed,
            constraints=constraints(rnd),
            past=people.past(),
        )
    except AllocationError as e:
        log.warning("Peer review %s/%s: lapsed leases stay: %s", rnd.course, rnd.assignment, e)
        return []
    for a in expired:
        a.state, a.expired_at = "expired", now
    added = sorted(set(moved.assignments) - set(current.assignments))
    return add_assignments(session, people, added, now)


def describe_round(rnd: ReviewRound, due: datetime | None, now: datetime) -> dict[str, Any]:
    """What everyone in the course may know about a round (no seed, no people)."""
    return {
        "assignment": rnd.assignment,
        "course": rnd.course,
        "state": rnd.state,
        "k": rnd.k,
        "due_at": iso(due),
        "lease_hours": rnd.lease_hours,
        "across_cohorts": bool(rnd.constraints.get("across_cohorts")),
        "separate_teams": bool(rnd.constraints.get("separate_teams")),
        "names_visible": rnd.names_visible,
        "released": rnd.released,
        "method": rnd.method,
        "reviewing_open": reviewing_open(rnd, due, now),
    }
