"""Live rounds in the database: start, join, show the next question, answer, close, end.

The rules are pure (``cohortlab.quizzes.live``); here each request reads the session row,
applies one rule with the service's ``now`` and writes the result back, in one
transaction. Answers read the row under a shared lock and the instructor's transitions
under an exclusive one (PostgreSQL; SQLite has a single writer anyway), so an answer and
a close cannot both win: an answer either lands before the close or is refused.

Everyone in a round sees the same questions in the same order (seeded by the session),
so the presenter's screen matches every learner's. Nothing here sends a key before the
question has closed: an answer is acknowledged, not graded aloud, until then. After it
closes, its correct answer and explanation go to staff, and to a learner only if the rule
in ``cohortlab.quizzes.policy`` allows it: not while they can still answer the question
self-paced (the same quiz open for them), so a live round never hands out the key of a
quiz that still counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access import Caller, require_instructor
from ..errors import APIError
from ..store.models import User
from ..store.quizzes import LiveAnswer, LivePlayer, LiveSession, QuizKeyShown, QuizRecord
from . import boards, live, policy, ranking
from .facts import QuizFacts, round_questions
from .grading import AnswerError, grade
from .records import correct_answer, find
from .spec import COUNTDOWN_RANGE, LiveOptions

TEAM_MODES = ("none", "cohorts", "teams")
BOARD_SIZE = 10


@dataclass
class Teams:
    """Who is in which team for this round (from the hub's groups, read by the handler)."""

    mode: str = "none"
    cohort: str | None = None
    of: dict[str, str] = field(default_factory=dict)  # user name -> team


@dataclass
class Announcement:
    """What to tell whom once the transaction has committed.

    ``learner_event`` never carries a key; ``keyed_event`` (the same with the closed
    question's correct answer) goes to ``keyed_players`` only, those the policy lets see it.
    """

    action: str
    session: LiveSession
    players: list[str]
    learner_event: dict[str, Any]
    staff_event: dict[str, Any]
    keyed_players: list[str] = field(default_factory=list)
    keyed_event: dict[str, Any] | None = None


def _state(row: LiveSession) -> live.LiveState:
    return live.LiveState.from_json(row.state)


def _live_error(e: live.LiveError) -> APIError:
    return APIError(409, "live_state", str(e))


def load(
    session: Session, course: str, session_id: int, lock: str | None = None
) -> tuple[LiveSession, QuizRecord]:
    query = select(LiveSession).where(LiveSession.id == session_id, LiveSession.course == course)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise APIError(
            404, "unknown_session", f"Course {course!r} has no live session {session_id}."
        )
    record = session.get(QuizRecord, row.quiz_id)
    assert record is not None
    return row, record


def start(
    session: Session, caller: Caller, slug: str, body: dict[str, Any], teams: Teams, now: datetime
) -> dict[str, Any]:
    require_instructor(caller, "run live quizzes")
    unknown = sorted(set(body) - {"team_mode", "team_cohort", "countdown", "speed", "streak"})
    if unknown:
        raise APIError(
            400,
            "invalid_field",
            f"Unknown field(s): {', '.join(unknown)}; send any of team_mode, team_cohort, "
            "countdown, speed, streak.",
        )
    record = find(session, caller.course, slug)
    running = session.scalars(
        select(LiveSession.id).where(LiveSession.quiz_id == record.id, LiveSession.ended.is_(False))
    ).first()
    if running is not None:
        raise APIError(
            409,
            "session_running",
            f"Live session {running} of quiz {slug!r} is still running; end it first.",
        )
    stored = record.live or {}
    options = LiveOptions(
        countdown=body.get("countdown", stored.get("countdown", 20)),
        speed=body.get("speed", stored.get("speed", "points")),
        streak=body.get("streak", stored.get("streak", True)),
    )
    if options.speed not in ("points", "tiebreak"):
        raise APIError(400, "invalid_field", "speed must be points or tiebreak.")
    if not isinstance(options.streak, bool):
        raise APIError(400, "invalid_field", "streak must be true or false.")
    if teams.mode not in TEAM_MODES:
        raise APIError(400, "invalid_field", "team_mode must be none, cohorts or teams.")
    row = LiveSession(
        quiz_id=record.id,
        course=caller.course,
        state={},
        team_mode=teams.mode,
        team_cohort=teams.cohort,
        ended=False,
        announced=-1,
        started_by=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    questions, _keys = round_questions(record, row.id)
    try:
        state = live.start_session(len(questions), options)
    except live.LiveError as e:
        raise APIError(400, "invalid_field", str(e)) from None
    row.state = state.as_json()
    session.flush()
    return view(session, caller, row, record, now)


def current(session: Session, caller: Caller, slug: str) -> LiveSession:
    """The quiz's running session, or its latest if none is running."""
    record = find(session, caller.course, slug)
    row = session.scalars(
        select(LiveSession)
        .where(LiveSession.quiz_id == record.id)
        .order_by(LiveSession.ended, LiveSession.id.desc())
    ).first()
    if row is None:
        raise APIError(
            404, "no_session", f"Quiz {slug!r} has no live session yet; the instructor starts one."
        )
    return row


def join(session: Session, caller: Caller, session_id: int, teams: Teams, now: datetime) -> dict:
    if caller.role != "learner":
        raise APIError(400, "not_a_player", "Staff run and watch live quizzes; learners play.")
    row, record = load(session, caller.course, session_id, lock="share")
    try:
        live.check_join(live.settle(_state(row), now))
    except live.LiveError as e:
        raise _live_error(e) from None
    if session.get(LivePlayer, (row.id, caller.user_id)) is None:
        session.add(
            LivePlayer(
                session_id=row.id,
                user_id=caller.user_id,
                team=teams.of.get(caller.name),
                joined_at=now,
            )
        )
        try:
            session.flush()
        except IntegrityError:  # the same person joining twice at the same moment
            raise APIError(409, "already_joined", "You have just joined; reload.") from None
    return view(session, caller, row, record, now)


def answer(
    session: Session, caller: Caller, session_id: int, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Record one answer to the open question; acknowledged, graded aloud only at close."""
    if set(body) != {"question", "answer"}:
        raise APIError(
            400, "invalid_answer", 'Send {"question": <question id>, "answer": <your answer>}.'
        )
    row, record = load(session, caller.course, session_id, lock="share")
    player = session.get(LivePlayer, (row.id, caller.user_id))
    if player is None:
        raise APIError(403, "not_joined", "Join the live session before answering.")
    questions, keys = round_questions(record, row.id)
    ids = [q["id"] for q in questions]
    qid = body["question"]
    if not isinstance(qid, str) or qid not in ids:
        raise APIError(400, "unknown_question", f"This round has no question {str(qid)[:64]!r}.")
    index = ids.index(qid)
    state = _state(row)
    # Whether it may count is decided before it is graded, so a refused answer (late,
    # repeated, or from someone shown the key) costs nothing and tells nothing.
    try:
        live.accept_answer(state, index, now)
    except live.LiveError as e:
        raise _live_error(e) from None
    shown = session.get(QuizKeyShown, (record.id, caller.user_id, qid)) is not None
    if policy.live_refusal(shown) is not None:
        raise APIError(
            409,
            policy.KEY_SHOWN,
            f"You have been shown the answer to question {qid!r}, so answers to it no "
            "longer count.",
        )
    answered = session.scalar(
        select(LiveAnswer.id).where(
            LiveAnswer.session_id == row.id,
            LiveAnswer.user_id == caller.user_id,
            LiveAnswer.question == index,
        )
    )
    if answered is not None:
        raise APIError(
            409, "already_answered", "You have already answered this question in this round."
        )
    try:
        result = grade(keys[index], body["answer"])
    except AnswerError as e:
        raise APIError(400, "invalid_answer", str(e)) from None
    totals = live.Player(
        score=player.score,
        streak=player.streak,
        last_correct=player.last_correct,
        answer_time=player.answer_time,
        answered=player.answered,
        correct=player.correct,
    )
    try:
        scored, after = live.score_answer(state, totals, index, result, now)
    except live.LiveError as e:
        raise _live_error(e) from None
    session.add(
        LiveAnswer(
            session_id=row.id,
            user_id=caller.user_id,
            question=index,
            question_id=qid,
            answer=body["answer"],
            correct=result.correct,
            fraction=live.fraction_of(result),
            points=scored.points,
            bonus=scored.bonus,
            elapsed=scored.elapsed,
            received_at=now,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise APIError(
            409, "already_answered", "You have already answered this question in this round."
        ) from None
    player.score, player.streak = after.score, after.streak
    player.last_correct, player.answer_time = after.last_correct, after.answer_time
    player.answered, player.correct = after.answered, after.correct
    return {"received": True, "question": qid, "elapsed": round(scored.elapsed, 3)}


def transition(
    session: Session,
    caller: Caller,
    session_id: int,
    action: str,
    body: dict[str, Any],
    now: datetime,
) -> tuple[dict[str, Any], Announcement | None]:
    """The instructor's next / close / end."""
    require_instructor(caller, "run live quizzes")
    row, record = load(session, caller.course, session_id, lock="update")
    state = _state(row)
    try:
        if action == "next":
            unknown = set(body) - {"countdown"}
            if unknown:
                raise APIError(400, "invalid_field", "next takes only an optional countdown.")
            countdown = body.get("countdown")
            low, high = COUNTDOWN_RANGE
            if countdown is not None and (
                isinstance(countdown, bool)
                or not isinstance(countdown, int)
                or not low <= countdown <= high
            ):
                raise APIError(
                    400, "invalid_field", f"countdown must be whole seconds from {low} to {high}."
                )
            new = live.open_question(state, now, body.get("countdown"))
        elif action == "close":
            new = live.close_question(state, now)
        elif action == "end":
            new = live.end_session(state, now)
        else:  # pragma: no cover - the route only passes these
            raise APIError(404, "not_found", f"No live action {action!r}.")
    except live.LiveError as e:
        raise _live_error(e) from None
    row.state = new.as_json()
    row.ended = new.phase == "ended"
    row.updated_at = now
    session.flush()
    announcement = announce(session, row, record, new, now)
    return view(session, caller, row, record, now), announcement


def settle_row(
    session: Session, course: str, session_id: int, now: datetime
) -> Announcement | None:
    """Close a question whose countdown has run out (a timer calls this at the deadline)."""
    row, record = load(session, course, session_id, lock="update")
    state = _state(row)
    settled = live.settle(state, now)
    if settled != state:
        row.state = settled.as_json()
        row.updated_at = now
        session.flush()
    return announce(session, row, record, settled, now)


class PlayerRow(NamedTuple):
    name: str
    score: int
    answer_time: float
    team: str | None
    user_id: int


def _players(session: Session, row: LiveSession) -> list[PlayerRow]:
    """Everyone in the round with their totals, in one query (a room may hold thousands)."""
    query = (
        select(User.name, LivePlayer.score, LivePlayer.answer_time, LivePlayer.team, User.id)
        .join(User, User.id == LivePlayer.user_id)
        .where(LivePlayer.session_id == row.id)
    )
    return [PlayerRow(*r) for r in session.execute(query)]


def _standings(players: list[PlayerRow], speed: str) -> list[ranking.Ranked]:
    return live.standings(
        {p.name: live.Player(score=p.score, answer_time=p.answer_time) for p in players},
        speed,  # type: ignore[arg-type]
    )


@dataclass
class Naming:
    """The course's naming rule and everyone's aliases, worked out once per announcement."""

    names: str
    aliases: dict[str, str]
    opted_in: set[str]

    @classmethod
    def load(cls, session: Session, course: str, people: list[str]) -> Naming:
        setting = boards.course_setting(session, course)
        return cls(
            names=setting.names,
            aliases=boards.aliases(session, setting, people),
            opted_in=boards.opted_in_names(session, course, people),
        )

    def board(self, ranked: list[ranking.Ranked], viewer: str, staff: bool) -> dict[str, Any]:
        return ranking.leaderboard(
            ranked,
            viewer=viewer,
            staff=staff,
            names=self.names,  # type: ignore[arg-type]
            aliases=self.aliases,
            opted_in=self.opted_in,
            limit=BOARD_SIZE,
        ).as_json("live")


def _teams(players: list[PlayerRow], speed: str) -> list[dict[str, Any]]:
    if not any(p.team for p in players):
        return []
    totals = {p.name: float(p.score) for p in players}
    team_of = {p.name: p.team for p in players if p.team}
    times = {p.name: p.answer_time for p in players} if speed == "tiebreak" else None
    return [
        {"rank": t.rank, "team": t.team, "score": t.score, "members": t.members}
        for t in live.team_scores(totals, team_of, times)
    ]


def results(
    session: Session,
    row: LiveSession,
    record: QuizRecord,
    question: int,
    joined: int,
    with_key: bool,
) -> dict[str, Any]:
    """What everyone may see once ``question`` has closed (without anyone's own row), and
    ``with_key`` its correct answer and explanation (for staff, and for learners the
    policy allows)."""
    questions, keys = round_questions(record, row.id)
    answers = session.execute(
        select(LiveAnswer.answer, LiveAnswer.correct, LiveAnswer.fraction).where(
            LiveAnswer.session_id == row.id, LiveAnswer.question == question
        )
    )
    dist = live.distribution(
        questions[question],
        [live.Response(answer, correct, fraction) for answer, correct, fraction in answers],
        joined=joined,
    )
    shown: dict[str, Any] = {"question": questions[question]["id"], "distribution": dist.as_json()}
    if with_key:
        key = keys[question]
        shown["correct_answer"] = correct_answer(key)
        shown["explanation"] = key.explanation
    return shown


def announce(
    session: Session, row: LiveSession, record: QuizRecord, state: live.LiveState, now: datetime
) -> Announcement | None:
    """The events for a state change; results of a closed question are announced once."""
    base = {
        "type": "live",
        "course": row.course,
        "quiz": record.slug,
        "session": row.id,
    }
    players = _players(session, row)
    base["state"] = {
        **state.as_json(),
        "remaining": live.remaining(state, now),
        "players": len(players),
    }
    player_names = sorted(p.name for p in players)
    closed_now = (
        state.question >= 0
        and live.results_visible(state, state.question)
        and row.announced < state.question
    )
    if state.phase == "open":
        action = "question_opened"
    elif state.phase == "ended":
        action = "ended"  # with the last question's results if they were not out yet
    elif closed_now:
        action = "question_closed"
    else:
        return None
    learner_event = {**base, "action": action}
    staff_event = {**base, "action": action}
    keyed_players: list[str] = []
    keyed_event: dict[str, Any] | None = None
    if closed_now:
        row.announced = state.question
        shown = results(session, row, record, state.question, len(players), with_key=True)
        # Events stay small (PostgreSQL NOTIFY): counts by choice id, not the choice texts
        # (clients hold the question), and the explanation is fetched with the view.
        shown.pop("explanation")
        for choice in shown["distribution"].get("choices", []):
            choice.pop("text", None)
        unkeyed = {k: v for k, v in shown.items() if k != "correct_answer"}
        ranked = _standings(players, state.options.speed)
        teams = _teams(players, state.options.speed)
        naming = Naming.load(session, row.course, [r.user for r in ranked])
        board = naming.board(ranked, "", staff=False)
        learner_event["results"] = {**unkeyed, "leaderboard": board, "teams": teams}
        staff_event["results"] = {
            **shown,
            "leaderboard": naming.board(ranked, "", staff=True),
            "teams": teams,
        }
        # The key goes to the round's players; recorded, it ends their chance at it (policy).
        qid = shown["question"]
        facts = QuizFacts.load(session, record, now, [p.user_id for p in players])
        allowed = [p for p in players if facts.key_at_live_close(p.user_id, qid, played=True)]
        facts.record_shown(session, [(p.user_id, qid) for p in allowed])
        keyed_players = [p.name for p in allowed]
        if keyed_players:
            keyed = {**shown, "leaderboard": board, "teams": teams}
            keyed_event = {**learner_event, "results": keyed}
        session.flush()
    return Announcement(
        action,
        row,
        player_names,
        learner_event,
        staff_event,
        sorted(keyed_players),
        keyed_event,
    )


def view(
    session: Session, caller: Caller, row: LiveSession, record: QuizRecord, now: datetime
) -> dict[str, Any]:
    """The round as the caller sees it now."""
    state = live.settle(_state(row), now)
    questions, _keys = round_questions(record, row.id)
    me = session.get(LivePlayer, (row.id, caller.user_id))
    count = session.scalar(
        select(func.count()).select_from(LivePlayer).where(LivePlayer.session_id == row.id)
    )
    body: dict[str, Any] = {
        "session": {
            "id": row.id,
            "quiz": record.slug,
            "title": record.title,
            "course": row.course,
            "team_mode": row.team_mode,
            "team_cohort": row.team_cohort,
            **state.as_json(),
            "remaining": live.remaining(state, now),
            "players": count,
        },
        "joined": me is not None,
        "question": questions[state.question] if state.question >= 0 else None,
    }
    if me is not None:
        body["me"] = {"score": me.score, "team": me.team, "answered": me.answered}
        if state.question >= 0:
            mine = session.scalars(
                select(LiveAnswer).where(
                    LiveAnswer.session_id == row.id,
                    LiveAnswer.user_id == caller.user_id,
                    LiveAnswer.question == state.question,
                )
            ).one_or_none()
            body["my_answer"] = {"answered": mine is not None}
            if mine is not None:
                body["my_answer"]["answer"] = mine.answer
                if live.results_visible(state, state.question):
                    body["my_answer"].update(
                        correct=mine.correct,
                        points=mine.points,
                        bonus=mine.bonus,
                        streak=me.streak if me.last_correct == state.question else 0,
                    )
    if state.question >= 0 and live.results_visible(state, state.question):
        players = _players(session, row)
        ranked = _standings(players, state.options.speed)
        with_key = caller.is_staff
        if not caller.is_staff:
            qid = questions[state.question]["id"]
            facts = QuizFacts.load(session, record, now, [caller.user_id])
            played = any(p.user_id == caller.user_id for p in players)
            with_key = facts.key_at_live_close(caller.user_id, qid, played)
            if with_key:
                facts.record_shown(session, [(caller.user_id, qid)])
        body["results"] = {
            **results(session, row, record, state.question, len(players), with_key),
            "leaderboard": Naming.load(session, row.course, [r.user for r in ranked]).board(
                ranked, caller.name, staff=caller.is_staff
            ),
            "teams": _teams(players, state.options.speed),
        }
    return body


def view_by_id(session: Session, caller: Caller, session_id: int, now: datetime) -> dict[str, Any]:
    row, record = load(session, caller.course, session_id)
    return view(session, caller, row, record, now)
