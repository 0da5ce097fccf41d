"""Self-paced quizzes in the database: publish, show, answer, extend, score.

Functions take a session and a :class:`~cohortlab.access.Caller` and return JSON-ready
data; the handler runs each in one transaction. Every time that decides anything (open,
closed, late) is ``now`` as the service measured it, never a client's clock.

What leaves for a learner is built here and only here: the questions from
:func:`~cohortlab.quizzes.spec.public_view`, their own answers, and, for a question whose
key the rule in ``cohortlab.quizzes.policy`` lets them see, its explanation and correct
answer. Whether an answer counts is that rule's too. A wrong attempt while they can still
earn credit gets "wrong" and the feedback for what they chose (not for multiple choice),
nothing more: no partial credit, in its score or in any total.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access import Caller, require_instructor
from ..errors import APIError
from ..store import personal
from ..store.models import User, utcnow
from ..store.quizzes import LiveSession, QuizAnswer, QuizExtension, QuizRecord
from . import policy
from .facts import QuizFacts, parsed
from .grading import AnswerError, grade
from .spec import (
    QUIZ_FIELDS,
    Question,
    Quiz,
    SpecError,
    parse_quiz,
    parse_settings,
    parse_time,
    public_view,
)

SETTING_FIELDS = ("attempts", "counting", "opens", "closes", "live")
MAX_SPEC_BYTES = 1_000_000


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def find(session: Session, course: str, slug: str) -> QuizRecord:
    record = session.scalars(
        select(QuizRecord).where(QuizRecord.course == course, QuizRecord.slug == slug)
    ).one_or_none()
    if record is None:
        raise APIError(404, "unknown_quiz", f"Course {course!r} has no quiz {slug!r}.")
    return record


def courses_with(session: Session, courses: list[str], slug: str) -> list[str]:
    """Which of ``courses`` (the caller's) publish a quiz called ``slug``."""
    if not courses:
        return []
    return sorted(
        session.scalars(
            select(QuizRecord.course).where(QuizRecord.slug == slug, QuizRecord.course.in_(courses))
        )
    )


# --- publishing -------------------------------------------------------------------------


def _spec_mapping(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        if len(raw.encode()) > MAX_SPEC_BYTES:
            raise APIError(400, "spec_too_large", "The quiz spec is larger than 1 MB.")
        try:
            raw = yaml.safe_load(raw)
        except yaml.YAMLError:
            parse_quiz(raw)  # raises a SpecError that names the line and column
    if not isinstance(raw, dict):
        raise APIError(400, "invalid_spec", "spec must be a quiz (a mapping, YAML or JSON text).")
    return raw


def _refuse_during_live_round(session: Session, record: QuizRecord) -> None:
    """A live round scores every answer against the quiz as it is now: changed questions
    mid-round would score answers already given against a key they never saw, and a
    changed question count breaks the round. Republishing the same quiz stays allowed
    (``nbgrader generate_assignment`` run again)."""
    running = session.scalar(
        select(LiveSession.id)
        .where(LiveSession.quiz_id == record.id, LiveSession.ended.is_(False))
        .limit(1)
    )
    if running is not None:
        raise APIError(
            409,
            "live_round_running",
            f"Quiz {record.slug!r} has a live round in progress, and its questions cannot "
            "change during a round. End the round, then publish again.",
        )


def publish(
    session: Session, caller: Caller, slug: str, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Store (or replace) a quiz and its key; ``(staff view, created)``."""
    require_instructor(caller, "publish quizzes")
    unknown = sorted(set(body) - {"spec", "notebook_key"})
    if unknown:
        raise APIError(
            400,
            "invalid_field",
            f"Unknown field(s): {', '.join(unknown)}; send spec and notebook_key.",
        )
    if "spec" not in body:
        raise APIError(400, "missing_field", "Send the quiz as spec (a mapping or YAML/JSON text).")
    try:
        data = _spec_mapping(body["spec"])
        quiz = parse_quiz(data)
    except SpecError as e:
        raise APIError(400, "invalid_spec", f"The quiz spec is not valid: {e}") from None
    if quiz.id != slug:
        raise APIError(
            409, "id_mismatch", f"The spec's id is {quiz.id!r} but it was sent to quiz {slug!r}."
        )
    notebook_key = body.get("notebook_key")
    if notebook_key is not None and (not isinstance(notebook_key, str) or len(notebook_key) > 512):
        raise APIError(400, "invalid_field", "notebook_key must be text of at most 512 characters.")
    settings = quiz.settings
    stored = {k: v for k, v in data.items() if k in QUIZ_FIELDS and k not in SETTING_FIELDS}
    live = {
        "countdown": settings.live.countdown,
        "speed": settings.live.speed,
        "streak": settings.live.streak,
    }
    record = session.scalars(
        select(QuizRecord).where(QuizRecord.course == caller.course, QuizRecord.slug == slug)
    ).one_or_none()
    if record is not None and (record.spec != stored or record.live != live):
        _refuse_during_live_round(session, record)
    created = record is None
    now = utcnow()
    if record is None:
        record = QuizRecord(course=caller.course, slug=slug, version=1, created_at=now)
        session.add(record)
    else:
        record.version += 1
    record.title = quiz.title
    record.spec = stored
    record.notebook_key = notebook_key
    record.attempts = settings.attempts
    record.counting = settings.counting
    record.opens_at = settings.opens
    record.closes_at = settings.closes
    record.live = live
    record.published_by = caller.user_id
    record.updated_at = now
    session.flush()
    return staff_view(record), created


def change_settings(
    session: Session, caller: Caller, slug: str, body: dict[str, Any]
) -> dict[str, Any]:
    require_instructor(caller, "change a quiz's settings")
    allowed = {"attempts", "counting", "opens_at", "closes_at", "revealed"}
    unknown = sorted(set(body) - allowed)
    if unknown or not body:
        raise APIError(
            400,
            "invalid_field",
            f"Send any of: {', '.join(sorted(allowed))}"
            + (f" (unknown: {', '.join(unknown)})." if unknown else "."),
        )
    record = find(session, caller.course, slug)
    merged = {
        "attempts": body.get("attempts", record.attempts),
        "counting": body.get("counting", record.counting),
        "opens": body.get("opens_at", record.opens_at),
        "closes": body.get("closes_at", record.closes_at),
    }
    try:
        settings = parse_settings(merged)
    except SpecError as e:
        message = str(e).replace("opens", "opens_at").replace("closes", "closes_at")
        raise APIError(400, "invalid_settings", message) from None
    if "revealed" in body:
        if not isinstance(body["revealed"], bool):
            raise APIError(400, "invalid_settings", "revealed must be true or false.")
        record.revealed = body["revealed"]
    record.attempts = settings.attempts
    record.counting = settings.counting
    record.opens_at = settings.opens
    record.closes_at = settings.closes
    record.updated_at = utcnow()
    session.flush()
    return staff_view(record)


# --- views ------------------------------------------------------------------------------


def settings_json(record: QuizRecord) -> dict[str, Any]:
    return {
        "attempts": record.attempts,
        "counting": record.counting,
        "opens_at": iso(record.opens_at),
        "closes_at": iso(record.closes_at),
        "revealed": record.revealed,
        "live": record.live,
    }


def staff_view(record: QuizRecord) -> dict[str, Any]:
    """For instructors: the settings and the spec with its key."""
    quiz = parsed(record)
    return {
        "id": record.slug,
        "course": record.course,
        "title": record.title,
        "notebook_key": record.notebook_key,
        "version": record.version,
        "question_count": len(quiz.questions),
        "max_score": sum(q.points for q in quiz.questions),
        "updated_at": iso(record.updated_at),
        **settings_json(record),
        "spec": record.spec,
    }


def correct_answer(question: Question) -> Any:
    """The key of one question, in the shape a learner sends answers (shown when done)."""
    if question.type == "single":
        return next(c.id for c in question.choices if c.correct)
    if question.type == "multiple":
        return [c.id for c in question.choices if c.correct]
    if question.type == "ordering":
        return [i.id for i in question.items]
    if question.type == "numeric":
        if question.relative_tolerance is not None:
            return {"answer": question.answer, "relative_tolerance": question.relative_tolerance}
        return {"answer": question.answer, "tolerance": question.tolerance}
    if question.answers:
        return question.answers[0]
    assert question.pattern is not None
    return {"pattern": question.pattern.pattern}


def _questions_for(
    quiz: Quiz, user_id: int, course: str
) -> tuple[dict[str, Any], dict[str, Question]]:
    view = public_view(quiz, seed=user_id, course=course)
    by_id = {q.id: q for q in quiz.questions}
    return view, {q["id"]: by_id[q["id"]] for q in view["questions"]}


def _feedback(question: Question, answer: Any, visible: bool) -> list[str]:
    # Text and ordering answers have no feedback: a text answer is not graded again here,
    # which could take the pattern's whole time limit on every view.
    if question.type not in ("single", "multiple", "numeric"):
        return []
    if not policy.feedback_visible(question.type, visible):
        return []
    try:
        result = grade(question, answer)
    except AnswerError:  # the spec was republished and this old answer no longer fits
        return []
    return [result.feedback] if result.feedback else []


def counted(record: QuizRecord, rows: list[QuizAnswer], visible: bool = True) -> float:
    """The score that counts for one question: the best attempt, or the last one. Unless
    ``visible`` (the key may be shown), as the learner may see it: no partial credit."""
    if not rows:
        return 0.0

    def score(row: QuizAnswer) -> float:
        return policy.shown_score(row.score, row.correct, visible)

    if record.counting == "last":
        return score(max(rows, key=lambda r: r.attempt))
    return max(score(r) for r in rows)


def question_state(
    record: QuizRecord, question: Question, rows: list[QuizAnswer], facts: policy.Facts
) -> dict[str, Any]:
    """One question as the learner may see it; ``facts`` must count ``rows`` as used."""
    rows = sorted(rows, key=lambda r: r.attempt)
    last = rows[-1] if rows else None
    used = len(rows)
    visible = policy.key_visible(facts)
    state: dict[str, Any] = {
        "attempts_used": used,
        "attempts_left": max(0, record.attempts - used),
        "answered": last is not None,
        "last_answer": last.answer if last else None,
        "correct": last.correct if last else None,
        "score": counted(record, rows, visible) if rows else None,
        "feedback": _feedback(question, last.answer, visible) if last else [],
        "done": policy.self_paced_over(facts),
    }
    if visible:
        state["explanation"] = question.explanation
        state["correct_answer"] = correct_answer(question)
    return state


def _answers_by_question(
    session: Session, record: QuizRecord, user_id: int
) -> dict[str, list[QuizAnswer]]:
    rows = session.scalars(
        select(QuizAnswer).where(QuizAnswer.quiz_id == record.id, QuizAnswer.user_id == user_id)
    )
    grouped: dict[str, list[QuizAnswer]] = defaultdict(list)
    for row in rows:
        grouped[row.question_id].append(row)
    return grouped


def learner_view(
    session: Session, caller: Caller, record: QuizRecord, now: datetime
) -> dict[str, Any]:
    quiz = parsed(record)
    view, questions = _questions_for(quiz, caller.user_id, record.course)
    facts = QuizFacts.load(session, record, now, [caller.user_id])
    win = facts.window(caller.user_id)
    status = win.state(now)
    answers = _answers_by_question(session, record, caller.user_id)
    states = {
        qid: question_state(record, q, answers.get(qid, []), facts.of(caller.user_id, qid))
        for qid, q in questions.items()
    }
    if not caller.is_staff:
        keyed = [qid for qid, state in states.items() if "correct_answer" in state]
        facts.record_shown(session, [(caller.user_id, qid) for qid in keyed])
    body: dict[str, Any] = {
        "quiz": {
            **view,
            "course": record.course,
            **settings_json(record),
            "closes_at": iso(win.closes),
            "status": status,
            "open": status == "open",
        },
        "state": states,
        "score": round(sum(s["score"] or 0.0 for s in states.values()), 6),
        "max_score": sum(q.points for q in questions.values()),
    }
    if caller.role == "instructor":
        body["spec"] = record.spec
    return body


def summaries(session: Session, caller: Caller, now: datetime) -> list[dict[str, Any]]:
    records = session.scalars(
        select(QuizRecord).where(QuizRecord.course == caller.course).order_by(QuizRecord.slug)
    ).all()
    out = []
    for record in records:
        quiz = parsed(record)
        _view, questions = _questions_for(quiz, caller.user_id, record.course)
        facts = QuizFacts.load(session, record, now, [caller.user_id])
        status = facts.window(caller.user_id).state(now)
        item: dict[str, Any] = {
            "id": record.slug,
            "title": record.title,
            **settings_json(record),
            "status": status,
            "open": status == "open",
            "question_count": len(questions),
            "max_score": sum(q.points for q in questions.values()),
        }
        mine = learner_totals(session, record, now, [caller.user_id], facts)
        item["score"] = mine.get(caller.user_id, (0.0, 0.0))[0]
        out.append(item)
    return out


# --- answering --------------------------------------------------------------------------


def _refusal_message(code: str, record: QuizRecord, qid: str, facts: policy.Facts) -> str:
    slug = record.slug
    return {
        policy.NOT_OPEN: f"Quiz {slug!r} opens at {iso(facts.opens)}; answer after that.",
        policy.CLOSED: f"Quiz {slug!r} closed at {iso(facts.closes)}; answers are no longer taken.",
        policy.REVEALED: f"The answers to quiz {slug!r} have been revealed; answers are no "
        "longer taken.",
        policy.NO_ATTEMPTS: f"You have used all {record.attempts} attempt(s) at question {qid!r}.",
        policy.LIVE_ROUND: f"A live round of quiz {slug!r} is running: answer in the round. "
        "Answers here are taken again when it ends.",
        policy.KEY_SHOWN: f"You have been shown the answer to question {qid!r}, so answers to "
        "it no longer count.",
    }[code]


def _preview(record: QuizRecord, question: Question, answer: Any, now: datetime) -> dict[str, Any]:
    """A staff member's answer: graded and shown with the key, never recorded."""
    try:
        result = grade(question, answer)
    except AnswerError as e:
        raise APIError(400, "invalid_answer", str(e)) from None
    everything = policy.Facts(now=now, revealed=True, attempts=record.attempts)
    return {
        "preview": True,
        "result": {
            "correct": result.correct,
            "score": result.score,
            "max_score": result.max_score,
            "feedback": [result.feedback] if result.feedback else [],
            "attempts_left": record.attempts,
            "done": True,
            "explanation": question.explanation,
            "correct_answer": correct_answer(question),
        },
        "question": question_state(record, question, [], everything),
    }


def submit(
    session: Session, caller: Caller, slug: str, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Grade one answer and record it (staff answers are previews: graded, not recorded).

    Whether it may count is decided before it is graded, so a refused answer tells nothing
    about the key (not even, by its timing, whether the pattern of a text question had to
    give up on it).
    """
    unknown = sorted(set(body) - {"question", "answer"})
    if unknown or "question" not in body or "answer" not in body:
        raise APIError(
            400,
            "invalid_answer",
            'Send {"question": <question id>, "answer": <your answer>}'
            + (f"; unknown field(s): {', '.join(unknown)}." if unknown else "."),
        )
    record = find(session, caller.course, slug)
    quiz = parsed(record)
    _view, questions = _questions_for(quiz, caller.user_id, record.course)
    qid = body["question"]
    question = questions.get(qid) if isinstance(qid, str) else None
    if question is None:
        raise APIError(
            400, "unknown_question", f"Quiz {slug!r} has no question {str(qid)[:64]!r} for you."
        )
    if caller.is_staff:
        return _preview(record, question, body["answer"], now)
    facts = QuizFacts.load(session, record, now, [caller.user_id])
    before = facts.of(caller.user_id, qid)
    refusal = policy.self_paced_refusal(before)
    if refusal is not None:
        raise APIError(409, refusal, _refusal_message(refusal, record, qid, before))
    try:
        result = grade(question, body["answer"])
    except AnswerError as e:
        raise APIError(400, "invalid_answer", str(e)) from None
    session.add(
        QuizAnswer(
            quiz_id=record.id,
            user_id=caller.user_id,
            question_id=qid,
            attempt=before.used + 1,
            answer=body["answer"],
            correct=result.correct,
            score=result.score,
            answered_at=now,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise APIError(
            409,
            "answer_in_progress",
            "Another answer to this question was recorded at the same moment; reload the quiz.",
        ) from None
    rows = _answers_by_question(session, record, caller.user_id).get(qid, [])
    facts.used[(caller.user_id, qid)] = len(rows)
    state = question_state(record, question, rows, facts.of(caller.user_id, qid))
    visible = "correct_answer" in state
    shown_feedback = result.feedback and policy.feedback_visible(question.type, visible)
    outcome: dict[str, Any] = {
        "correct": result.correct,
        "score": policy.shown_score(result.score, result.correct, visible),
        "max_score": result.max_score,
        "feedback": [result.feedback] if shown_feedback else [],
        "attempts_left": state["attempts_left"],
        "done": state["done"],
    }
    if visible:
        outcome["explanation"] = state["explanation"]
        outcome["correct_answer"] = state["correct_answer"]
        facts.record_shown(session, [(caller.user_id, qid)])
    totals = learner_totals(session, record, now, [caller.user_id], facts)
    mine = totals.get(caller.user_id, (0.0, 0.0))
    return {"result": outcome, "question": state, "score": mine[0], "max_score": mine[1]}


# --- extensions and scores --------------------------------------------------------------


def set_extension(
    session: Session, caller: Caller, slug: str, user_name: str, body: dict[str, Any]
) -> dict[str, Any]:
    require_instructor(caller, "grant extensions")
    if set(body) != {"closes_at"}:
        raise APIError(400, "invalid_field", 'Send {"closes_at": "<ISO 8601 date-time>"}.')
    try:
        closes = parse_time(body["closes_at"], "closes_at")
    except SpecError as e:
        raise APIError(400, "invalid_time", str(e)) from None
    if closes is None:
        raise APIError(400, "invalid_time", "closes_at is required; DELETE removes an extension.")
    record = find(session, caller.course, slug)
    user = User.find(session, user_name)
    if user is None:
        user = User(name=user_name)
        session.add(user)
        session.flush()
    personal.upsert_for(
        session,
        QuizExtension,
        QuizExtension.quiz_id,
        record.id,
        user.id,
        closes_at=closes,
        granted_by=caller.user_id,
        created_at=utcnow(),
    )
    return {"extension": {"quiz": slug, "user": user_name, "closes_at": iso(closes)}}


def remove_extension(session: Session, caller: Caller, slug: str, user_name: str) -> None:
    require_instructor(caller, "remove extensions")
    record = find(session, caller.course, slug)
    if not personal.remove_for(session, QuizExtension, QuizExtension.quiz_id, record.id, user_name):
        raise APIError(404, "no_extension", f"{user_name} has no extension on quiz {slug!r}.")


def learner_totals(
    session: Session,
    record: QuizRecord,
    now: datetime,
    user_ids: list[int] | None = None,
    facts: QuizFacts | None = None,
) -> dict[int, tuple[float, float]]:
    """user id -> (score as they may see it, max score of their questions), for those who
    answered. What learners see (their totals, leaderboards): partial credit only where
    the key may be shown (``policy``); staff's score sheets use :func:`score_rows`."""
    query = select(QuizAnswer).where(QuizAnswer.quiz_id == record.id)
    if user_ids is not None:
        query = query.where(QuizAnswer.user_id.in_(user_ids))
    grouped: dict[int, dict[str, list[QuizAnswer]]] = defaultdict(lambda: defaultdict(list))
    for row in session.scalars(query):
        grouped[row.user_id][row.question_id].append(row)
    if facts is None:
        facts = QuizFacts.load(session, record, now, user_ids)
    quiz = parsed(record)
    out = {}
    for user_id, by_question in grouped.items():
        _view, questions = _questions_for(quiz, user_id, record.course)
        score = sum(
            counted(record, by_question.get(q, []), facts.key_visible(user_id, q))
            for q in questions
        )
        out[user_id] = (round(score, 6), sum(q.points for q in questions.values()))
    return out


def score_rows(
    session: Session, caller: Caller, slug: str, learners: list[str]
) -> list[dict[str, Any]]:
    """One row per learner of the course (those who never answered score 0)."""
    require_instructor(caller, "see everyone's scores")
    record = find(session, caller.course, slug)
    quiz = parsed(record)
    ids = dict(session.execute(select(User.name, User.id).where(User.name.in_(learners))).all())
    answers: dict[int, dict[str, list[QuizAnswer]]] = defaultdict(lambda: defaultdict(list))
    for row in session.scalars(select(QuizAnswer).where(QuizAnswer.quiz_id == record.id)):
        answers[row.user_id][row.question_id].append(row)
    rows = []
    for name in sorted(learners):
        user_id = ids.get(name)
        by_question = answers.get(user_id, {}) if user_id is not None else {}
        _view, questions = _questions_for(quiz, user_id or 0, record.course)
        per_question = {q: counted(record, by_question.get(q, [])) for q in questions}
        rows.append(
            {
                "user": name,
                "score": round(sum(per_question.values()), 6),
                "max_score": sum(q.points for q in questions.values()),
                "answered": sum(1 for q in questions if by_question.get(q)),
                "questions": per_question,
            }
        )
    return rows


def scores_csv(rows: list[dict[str, Any]], question_ids: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user", "score", "max_score", "answered", *question_ids])
    for row in rows:
        writer.writerow(
            [
                row["user"],
                row["score"],
                row["max_score"],
                row["answered"],
                *(row["questions"].get(q, "") for q in question_ids),
            ]
        )
    return out.getvalue()


def question_ids(session: Session, course: str, slug: str) -> list[str]:
    return [q.id for q in parsed(find(session, course, slug)).questions]
