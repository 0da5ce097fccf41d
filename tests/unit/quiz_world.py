"""A course with one quiz in a real database, driven through the functions the service's
handlers call (``records``, ``live_records``, ``boards``): shared by the quiz policy tests.

A test runs in one transaction that is rolled back at its end, and each call in a savepoint
of its own, so a refused call leaves nothing behind, as a refused request does. Times are
the test's: every call gets the world's ``now``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from cohortlab.access import Caller
from cohortlab.errors import APIError
from cohortlab.quizzes import boards, live_records, records
from cohortlab.store.models import User
from sqlalchemy import Engine
from sqlalchemy.orm import Session

COURSE = "c1"
QUIZ = "probe"
LEARNERS = ("ann", "bob")
QIDS = ("one", "many", "num", "word", "order")
# Key material that has no place in any learner-facing output unless the key may be shown:
# each question's explanation, and the per-choice feedback of a multiple-choice question
# (it says which choices are wrong).
MARKERS = {f"EXPL-{q}": q for q in QIDS} | {"FB-wrong-x": "many", "FB-wrong-y": "many"}
# Three answers to each question and the share of its points each earns. Every question is
# worth 1 point, so a partial share shows as a fraction in any score or total.
ANSWERS: dict[str, dict[str, Any]] = {
    "one": {"right": "r", "wrong": "w1", "partial": "w2"},
    "many": {"right": ["a", "b", "c"], "wrong": ["x", "y"], "partial": ["a", "x", "b"]},
    "num": {"right": 42, "wrong": 41, "partial": 40.5},
    "word": {"right": "Kiwi", "wrong": "apple", "partial": "kiw"},
    "order": {
        "right": ["p", "q", "r", "s"],
        "wrong": ["s", "r", "q", "p"],
        "partial": ["p", "q", "s", "r"],
    },
}
FRACTIONS = {
    "one": {"right": 1.0, "wrong": 0.0, "partial": 0.0},
    "many": {"right": 1.0, "wrong": 0.0, "partial": 1 / 3},
    "num": {"right": 1.0, "wrong": 0.0, "partial": 0.0},
    "word": {"right": 1.0, "wrong": 0.0, "partial": 0.0},
    "order": {"right": 1.0, "wrong": 0.0, "partial": 2 / 3},
}


def integrity_spec(**settings: Any) -> dict[str, Any]:
    """One question of every type, each worth a point, with the markers above."""
    return {
        "id": QUIZ,
        "title": "Probe",
        "attempts": 2,
        **settings,
        "questions": [
            {
                "id": "one",
                "type": "single",
                "prompt": "Pick",
                "explanation": "EXPL-one",
                "choices": [
                    {"id": "r", "text": "R", "correct": True},
                    {"id": "w1", "text": "W1", "correct": False},
                    {"id": "w2", "text": "W2", "correct": False},
                ],
            },
            {
                "id": "many",
                "type": "multiple",
                "prompt": "Tick",
                "scoring": "partial",
                "explanation": "EXPL-many",
                "choices": [
                    {"id": "a", "text": "A", "correct": True},
                    {"id": "b", "text": "B", "correct": True},
                    {"id": "c", "text": "C", "correct": True},
                    {"id": "x", "text": "X", "correct": False, "feedback": "FB-wrong-x"},
                    {"id": "y", "text": "Y", "correct": False, "feedback": "FB-wrong-y"},
                ],
            },
            {
                "id": "num",
                "type": "numeric",
                "prompt": "Number",
                "answer": 42,
                "feedback": "A hint, shown after any wrong answer.",
                "explanation": "EXPL-num",
            },
            {
                "id": "word",
                "type": "text",
                "prompt": "Fruit",
                "answers": ["kiwi"],
                "explanation": "EXPL-word",
            },
            {
                "id": "order",
                "type": "ordering",
                "prompt": "Order",
                "scoring": "partial",
                "explanation": "EXPL-order",
                "items": [{"id": i, "text": i.upper()} for i in "pqrs"],
            },
        ],
    }


def keys_in(output: Any, question: str | None = None) -> set[str]:
    """The questions whose key ``output`` carries: a correct answer or explanation field (in
    a question's state, an answer's result, a live round's results), or any marker."""
    text = json.dumps(output)
    found = {q for marker, q in MARKERS.items() if marker in text}

    def walk(node: Any, hint: str | None) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("question"), str) and node["question"] in QIDS:
                hint = node["question"]
            if "correct_answer" in node or "explanation" in node:
                assert hint is not None, f"a key with no question: {node}"
                found.add(hint)
            for key, value in node.items():
                walk(value, key if key in QIDS else hint)
        elif isinstance(node, list):
            for value in node:
                walk(value, hint)

    walk(output, question)
    return found


class QuizWorld:
    """The course: an instructor, the learners, one quiz, and the service's functions."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.people: dict[str, Caller] = {}
        for name, role in [("teacher", "instructor"), *((n, "learner") for n in LEARNERS)]:
            user = User(name=name)
            session.add(user)
            session.flush()
            self.people[name] = Caller(name, user.id, COURSE, role, frozenset())

    def call(self, fn: Callable[..., Any], *args: Any) -> tuple[Any, APIError | None]:
        """``fn(session, *args)`` as one request: its writes undone if it is refused."""
        try:
            with self.session.begin_nested():
                return fn(self.session, *args), None
        except APIError as e:
            return None, e

    def ok(self, fn: Callable[..., Any], *args: Any) -> Any:
        result, error = self.call(fn, *args)
        assert error is None, f"{fn.__name__} refused: {error.code}: {error.message}"
        return result

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    # --- the instructor ---

    def publish(self, **settings: Any) -> None:
        self.ok(records.publish, self.people["teacher"], QUIZ, {"spec": integrity_spec(**settings)})

    def settings(self, **body: Any) -> tuple[Any, APIError | None]:
        return self.call(records.change_settings, self.people["teacher"], QUIZ, body)

    def extend(self, learner: str, closes: datetime) -> None:
        body = {"closes_at": closes.isoformat()}
        self.ok(records.set_extension, self.people["teacher"], QUIZ, learner, body)

    def start_round(self) -> int:
        view = self.ok(
            live_records.start, self.people["teacher"], QUIZ, {}, live_records.Teams(), self.now
        )
        return view["session"]["id"]

    def step(self, sid: int, action: str, **body: Any) -> tuple[Any, APIError | None]:
        return self.call(
            live_records.transition, self.people["teacher"], sid, action, body, self.now
        )

    # --- a learner ---

    def view(self, learner: str) -> dict[str, Any]:
        record = records.find(self.session, COURSE, QUIZ)
        return self.ok(records.learner_view, self.people[learner], record, self.now)

    def answer(self, learner: str, question: str, kind: str) -> tuple[Any, APIError | None]:
        body = {"question": question, "answer": ANSWERS[question][kind]}
        return self.call(records.submit, self.people[learner], QUIZ, body, self.now)

    def join(self, learner: str, sid: int) -> tuple[Any, APIError | None]:
        return self.call(
            live_records.join, self.people[learner], sid, live_records.Teams(), self.now
        )

    def live_answer(
        self, learner: str, sid: int, question: str, kind: str
    ) -> tuple[Any, APIError | None]:
        body = {"question": question, "answer": ANSWERS[question][kind]}
        return self.call(live_records.answer, self.people[learner], sid, body, self.now)

    def live_view(self, learner: str, sid: int) -> dict[str, Any]:
        return self.ok(live_records.view_by_id, self.people[learner], sid, self.now)

    def summary(self, learner: str) -> dict[str, Any]:
        [item] = self.ok(records.summaries, self.people[learner], self.now)
        return item

    def board(self, learner: str) -> dict[str, Any]:
        return self.ok(
            boards.quiz_board, self.people[learner], QUIZ, list(LEARNERS), "quiz", 10, self.now
        )


@contextmanager
def quiz_world(engine: Engine, now: datetime) -> Iterator[QuizWorld]:
    """A fresh world in ``engine``'s database (upgraded), gone again afterwards."""
    session = Session(bind=engine, expire_on_commit=False)
    session.begin()
    try:
        yield QuizWorld(session, now)
    finally:
        session.rollback()
        session.close()
