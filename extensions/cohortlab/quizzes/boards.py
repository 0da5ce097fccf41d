"""Leaderboards from the database: who stands where, under which name.

The ranking and naming rules are pure (``cohortlab.quizzes.ranking``); this module reads
the scores and the course's settings in one transaction and hands them over. Only learners
are ranked (staff answers are previews), and only those who have answered something, so an
empty board says "no scores yet" instead of listing everyone at zero. Scores are as their
owners may see them (``records.learner_totals``): no partial credit on a question whose
key they cannot see yet, or their own row would say how close a wrong attempt came.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Caller, require_instructor
from ..errors import APIError
from ..store.models import User, utcnow
from ..store.quizzes import LeaderboardOptIn, LeaderboardSetting, QuizAnswer, QuizRecord
from . import ranking
from .records import find, learner_totals

DEFAULT_NAMES = "alias"
MAX_LIMIT = 100


def course_setting(session: Session, course: str) -> LeaderboardSetting:
    """The course's naming rule, created (aliases, a fresh secret) the first time it is read."""
    setting = session.get(LeaderboardSetting, course)
    if setting is None:
        setting = LeaderboardSetting(
            course=course,
            names=DEFAULT_NAMES,
            alias_secret=ranking.new_alias_secret(),
            updated_at=utcnow(),
        )
        session.add(setting)
        session.flush()
    return setting


def aliases(session: Session, setting: LeaderboardSetting, learners: list[str]) -> dict[str, str]:
    """Aliases for the course's learners, assigned in the order the service first saw them,
    so a newcomer never changes an earlier person's alias."""
    ids = dict(session.execute(select(User.name, User.id).where(User.name.in_(learners))).all())
    ordered = sorted(learners, key=lambda n: (ids.get(n, 1 << 62), n))
    return ranking.assign_aliases(setting.alias_secret, setting.course, ordered)


def settings_view(session: Session, caller: Caller, learners: list[str]) -> dict[str, Any]:
    setting = course_setting(session, caller.course)
    opted = (
        session.get(LeaderboardOptIn, (caller.course, caller.user_id)) is not None
        if caller.role == "learner"
        else False
    )
    view: dict[str, Any] = {"course": caller.course, "names": setting.names, "opted_in": opted}
    if caller.name in learners:
        view["alias"] = aliases(session, setting, learners).get(caller.name)
    return view


def change_names(session: Session, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    require_instructor(caller, "choose how leaderboards name people")
    names = body.get("names")
    if set(body) != {"names"} or names not in ranking.NAMES:
        raise APIError(400, "invalid_settings", 'Send {"names": "real" | "alias" | "opt_in"}.')
    setting = course_setting(session, caller.course)
    setting.names = names
    setting.updated_at = utcnow()
    return {"course": caller.course, "names": names}


def set_opt_in(session: Session, caller: Caller, on: bool) -> dict[str, Any]:
    if caller.role != "learner":
        raise APIError(
            400, "not_ranked", "Only learners appear on leaderboards, so only they can opt in."
        )
    row = session.get(LeaderboardOptIn, (caller.course, caller.user_id))
    if on and row is None:
        session.add(LeaderboardOptIn(course=caller.course, user_id=caller.user_id))
    elif not on and row is not None:
        session.delete(row)
    return {"course": caller.course, "opted_in": on}


def opted_in_names(session: Session, course: str, names: list[str]) -> set[str]:
    """Who among ``names`` chose to show their real name in ``course``."""
    opted_ids = set(
        session.scalars(select(LeaderboardOptIn.user_id).where(LeaderboardOptIn.course == course))
    )
    if not opted_ids:
        return set()
    ids = dict(session.execute(select(User.name, User.id).where(User.name.in_(names))).all())
    return {name for name, uid in ids.items() if uid in opted_ids}


def _board(
    session: Session,
    caller: Caller,
    scope: str,
    totals: dict[str, tuple[float, float]],
    learners: list[str],
    limit: int,
) -> dict[str, Any]:
    setting = course_setting(session, caller.course)
    ranked = ranking.rank(
        ranking.Standing(name, score, reached)
        for name, (score, reached) in totals.items()
        if name in learners
    )
    board = ranking.leaderboard(
        ranked,
        viewer=caller.name,
        staff=caller.is_staff,
        names=setting.names,  # type: ignore[arg-type]
        aliases=aliases(session, setting, learners),
        opted_in=opted_in_names(session, caller.course, learners),
        limit=limit,
    )
    return board.as_json(scope)


def _reached(session: Session, quiz_ids: list[int]) -> dict[int, float]:
    """When each person last answered (POSIX seconds): among equal scores, earlier is listed
    first (they share the rank)."""
    last: dict[int, float] = {}
    if not quiz_ids:
        return last
    for user_id, at in session.execute(
        select(QuizAnswer.user_id, QuizAnswer.answered_at).where(QuizAnswer.quiz_id.in_(quiz_ids))
    ):
        last[user_id] = max(last.get(user_id, 0.0), at.timestamp())
    return last


def _names(session: Session, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())


def quiz_board(
    session: Session,
    caller: Caller,
    slug: str,
    learners: list[str],
    scope: str,
    limit: int,
    now: datetime,
) -> dict[str, Any]:
    record = find(session, caller.course, slug)
    totals = learner_totals(session, record, now)
    names = _names(session, list(totals))
    reached = _reached(session, [record.id])
    standings = {
        names[uid]: (score, reached.get(uid, 0.0)) for uid, (score, _max) in totals.items()
    }
    board = _board(session, caller, scope, standings, learners, limit)
    board["quiz"] = slug
    return board


def course_board(
    session: Session, caller: Caller, learners: list[str], scope: str, limit: int, now: datetime
) -> dict[str, Any]:
    records = session.scalars(select(QuizRecord).where(QuizRecord.course == caller.course)).all()
    sums: dict[int, float] = defaultdict(float)
    for record in records:
        for uid, (score, _max) in learner_totals(session, record, now).items():
            sums[uid] += score
    names = _names(session, list(sums))
    reached = _reached(session, [r.id for r in records])
    standings = {
        names[uid]: (round(score, 6), reached.get(uid, 0.0)) for uid, score in sums.items()
    }
    return _board(session, caller, scope, standings, learners, limit)


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return 10
    try:
        limit = int(raw)
    except ValueError:
        raise APIError(400, "invalid_limit", "limit must be a whole number.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise APIError(400, "invalid_limit", f"limit must be from 1 to {MAX_LIMIT}.")
    return limit
