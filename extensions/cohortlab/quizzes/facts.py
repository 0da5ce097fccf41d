"""What the quiz policy decides on, read from the database, and the record of keys shown.

``cohortlab.quizzes.policy`` is pure. This module gathers what it needs about one quiz at
one moment, for one learner or a whole class, in a handful of queries: each learner's
window (their extension applied), attempts used, the keys already shown to them, and the
questions still pending in the quiz's running live round. It also writes down each key the
service decides to send (:meth:`QuizFacts.record_shown`), in that same transaction, so the
response that carries a key is never sent without the record that makes later answers to
that question stop counting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..store.quizzes import LiveSession, QuizAnswer, QuizExtension, QuizKeyShown, QuizRecord
from . import live, policy
from .spec import Question, Quiz, parse_quiz, public_view

# --- the parsed quiz, cached per published version -----------------------------------

_PARSED: dict[tuple[Any, ...], Quiz] = {}
_PARSED_MAX = 256


def parsed(record: QuizRecord) -> Quiz:
    """The stored spec as a :class:`Quiz`, parsed once per published version (a live round
    reads it for every answer)."""
    key = (record.course, record.slug, record.id, record.version, record.updated_at)
    quiz = _PARSED.get(key)
    if quiz is None:
        quiz = parse_quiz(record.spec)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = quiz
    return quiz


_ROUNDS: dict[tuple[Any, ...], tuple[list[dict[str, Any]], list[Question]]] = {}


def round_questions(record: QuizRecord, row_id: int) -> tuple[list[dict[str, Any]], list[Question]]:
    """A live round's questions: public views (one order for everyone in the round, so the
    presenter's screen matches every learner's) and their keys, index-aligned.

    Worked out once per round and quiz version: every answer needs them.
    """
    key = (row_id, record.course, record.id, record.version, record.updated_at)
    found = _ROUNDS.get(key)
    if found is None:
        quiz = parsed(record)
        view = public_view(quiz, seed=f"live-{row_id}", course=record.course)
        by_id = {q.id: q for q in quiz.questions}
        found = (view["questions"], [by_id[q["id"]] for q in view["questions"]])
        if len(_ROUNDS) >= 64:
            _ROUNDS.pop(next(iter(_ROUNDS)))
        _ROUNDS[key] = found
    return found


# --- windows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """When the quiz takes answers from one person (their extension applied)."""

    opens: datetime | None
    closes: datetime | None

    def state(self, now: datetime) -> policy.WindowState:
        return policy.window_state(self.opens, self.closes, now)


# --- everything the policy needs, for one quiz at one moment --------------------------


@dataclass
class QuizFacts:
    """One quiz at ``now``, for the learners it was loaded for (or all of them)."""

    record: QuizRecord
    now: datetime
    extensions: dict[int, datetime] = field(default_factory=dict)
    used: dict[tuple[int, str], int] = field(default_factory=dict)
    shown: set[tuple[int, str]] = field(default_factory=set)
    live_running: bool = False
    pending: frozenset[str] = frozenset()  # questions not yet closed in the running round

    @classmethod
    def load(
        cls,
        session: Session,
        record: QuizRecord,
        now: datetime,
        user_ids: list[int] | None = None,
    ) -> QuizFacts:
        def only(column: Any, query: Any) -> Any:
            return query if user_ids is None else query.where(column.in_(user_ids))

        extensions = dict(
            session.execute(
                only(
                    QuizExtension.user_id,
                    select(QuizExtension.user_id, QuizExtension.closes_at).where(
                        QuizExtension.quiz_id == record.id
                    ),
                )
            ).all()
        )
        used = {
            (user_id, qid): count
            for user_id, qid, count in session.execute(
                only(
                    QuizAnswer.user_id,
                    select(QuizAnswer.user_id, QuizAnswer.question_id, func.count())
                    .where(QuizAnswer.quiz_id == record.id)
                    .group_by(QuizAnswer.user_id, QuizAnswer.question_id),
                )
            )
        }
        shown = {
            (user_id, qid)
            for user_id, qid in session.execute(
                only(
                    QuizKeyShown.user_id,
                    select(QuizKeyShown.user_id, QuizKeyShown.question_id).where(
                        QuizKeyShown.quiz_id == record.id
                    ),
                )
            )
        }
        facts = cls(record, now, extensions, used, shown)
        row = session.scalars(
            select(LiveSession)
            .where(LiveSession.quiz_id == record.id, LiveSession.ended.is_(False))
            .order_by(LiveSession.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            state = live.settle(live.LiveState.from_json(row.state), now)
            if state.phase != "ended":
                views, _keys = round_questions(record, row.id)
                facts.live_running = True
                facts.pending = frozenset(
                    view["id"]
                    for index, view in enumerate(views)
                    if not live.results_visible(state, index)
                )
        return facts

    def window(self, user_id: int) -> Window:
        return Window(self.record.opens_at, self.extensions.get(user_id) or self.record.closes_at)

    def of(self, user_id: int, question_id: str, used: int | None = None) -> policy.Facts:
        """The policy's facts for one learner and question (``used`` overrides the count
        loaded, e.g. right after recording an answer)."""
        win = self.window(user_id)
        return policy.Facts(
            now=self.now,
            opens=win.opens,
            closes=win.closes,
            revealed=self.record.revealed,
            attempts=self.record.attempts,
            used=self.used.get((user_id, question_id), 0) if used is None else used,
            shown=(user_id, question_id) in self.shown,
            live_running=self.live_running,
            live_pending=question_id in self.pending,
        )

    def key_visible(self, user_id: int, question_id: str) -> bool:
        return policy.key_visible(self.of(user_id, question_id))

    def key_at_live_close(self, user_id: int, question_id: str, played: bool) -> bool:
        return policy.key_at_live_close(self.of(user_id, question_id), played)

    def record_shown(self, session: Session, shown: list[tuple[int, str]]) -> None:
        """Write down that keys are being sent: ``(user id, question id)`` pairs.

        One statement for any number of them (a live question closing for a whole room);
        a row another request of the same learner has just written is left as it is.
        """
        rows = [
            {"quiz_id": self.record.id, "user_id": user, "question_id": qid, "shown_at": self.now}
            for user, qid in dict.fromkeys(shown)
            if (user, qid) not in self.shown
        ]
        if not rows:
            return
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(QuizKeyShown).values(rows).on_conflict_do_nothing())
        self.shown |= {(row["user_id"], row["question_id"]) for row in rows}
