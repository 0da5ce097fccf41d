"""Quiz storage on every backend (SQLite and PostgreSQL): answers counted once even when
they race, a live answer and the instructor's close never both win, nothing half-written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cohortlab.access import Caller
from cohortlab.errors import APIError
from cohortlab.quizzes import live_records, records
from cohortlab.store.db import connect, session_factory, session_scope
from cohortlab.store.db import upgrade as upgrade_db
from cohortlab.store.models import User
from cohortlab.store.quizzes import LiveAnswer, QuizAnswer
from sqlalchemy import func, select

COURSE = "c1"
SPEC = {
    "id": "q",
    "title": "T",
    "attempts": 2,
    "questions": [
        {
            "id": "q1",
            "type": "single",
            "prompt": "p",
            "choices": [
                {"id": "a", "text": "A", "correct": True},
                {"id": "b", "text": "B", "correct": False},
            ],
        },
        {"id": "q2", "type": "numeric", "prompt": "n", "answer": 2},
    ],
}


@pytest.fixture
def factory(cl_db_url: str) -> Iterator[Any]:
    upgrade_db(cl_db_url)
    engine = connect(cl_db_url)
    yield session_factory(engine)
    engine.dispose()


def person(factory: Any, name: str, role: str) -> Caller:
    with session_scope(factory) as s:
        user = User.find(s, name) or User(name=name)
        s.add(user)
        s.flush()
        return Caller(name=name, user_id=user.id, course=COURSE, role=role, cohorts=frozenset())


def run(factory: Any, fn: Any, *args: Any) -> Any:
    with session_scope(factory) as s:
        return fn(s, *args)


def test_publish_answer_and_score(factory: Any) -> None:
    teacher = person(factory, "teacher", "instructor")
    ada = person(factory, "ada", "learner")
    _view, created = run(factory, records.publish, teacher, "q", {"spec": SPEC})
    assert created
    now = datetime.now(UTC)
    out = run(factory, records.submit, ada, "q", {"question": "q1", "answer": "b"}, now)
    assert out["result"]["correct"] is False and out["result"]["attempts_left"] == 1
    out = run(factory, records.submit, ada, "q", {"question": "q1", "answer": "a"}, now)
    assert out["score"] == 1 and out["result"]["correct_answer"] == "a"
    with pytest.raises(APIError) as info:
        run(factory, records.submit, ada, "q", {"question": "q1", "answer": "a"}, now)
    assert info.value.status_code == 409
    rows = run(factory, records.score_rows, teacher, "q", ["ada", "ben"])
    assert {r["user"]: r["score"] for r in rows} == {"ada": 1.0, "ben": 0.0}


def test_racing_answers_use_each_attempt_once(factory: Any) -> None:
    teacher = person(factory, "teacher", "instructor")
    ada = person(factory, "ada", "learner")
    run(factory, records.publish, teacher, "q", {"spec": SPEC})
    now = datetime.now(UTC)
    start = threading.Barrier(6)

    def answer(_: int) -> int:
        start.wait()
        try:
            run(factory, records.submit, ada, "q", {"question": "q2", "answer": 1}, now)
        except APIError as e:
            return e.status_code
        return 201

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(answer, range(6)))
    # two attempts allowed: at most two answers recorded, the rest refused with a 409
    assert codes.count(201) <= 2 and all(c in (201, 409) for c in codes)
    recorded = run(factory, lambda s: s.scalar(select(func.count()).select_from(QuizAnswer)))
    assert recorded == codes.count(201)


def test_a_refused_publish_writes_nothing(factory: Any) -> None:
    teacher = person(factory, "teacher", "instructor")
    bad = {**SPEC, "questions": [{"id": "q1", "type": "single", "prompt": "p", "choices": []}]}
    with pytest.raises(APIError):
        run(factory, records.publish, teacher, "q", {"spec": bad})
    with pytest.raises(APIError) as info:
        run(factory, records.find, COURSE, "q")
    assert info.value.status_code == 404


def test_live_answers_and_the_close_never_both_win(factory: Any, cl_db_url: str) -> None:
    """Answers racing the instructor's close: each is either recorded before the close
    (and counted in the results the close announces) or refused; none lands after it.

    PostgreSQL takes them on many connections at once (row locks decide); SQLite gets them
    one at a time, as the service's single database thread hands them over.
    """
    teacher = person(factory, "teacher", "instructor")
    players = [person(factory, f"p{i}", "learner") for i in range(12)]
    run(factory, records.publish, teacher, "q", {"spec": SPEC})
    none = live_records.Teams()
    view = run(factory, live_records.start, teacher, "q", {}, none, datetime.now(UTC))
    sid = view["session"]["id"]
    for p in players:
        run(factory, live_records.join, p, sid, none, datetime.now(UTC))
    run(factory, live_records.transition, teacher, sid, "next", {}, datetime.now(UTC))
    first = view_question(factory, teacher, sid)
    body = {"question": first, "answer": first_answer(first)}
    concurrent = not cl_db_url.startswith("sqlite")
    start = threading.Barrier(len(players) + 1) if concurrent else None

    def answer(p: Caller) -> int:
        if start:
            start.wait()
        try:
            run(factory, live_records.answer, p, sid, body, datetime.now(UTC))
        except APIError as e:
            return e.status_code
        return 201

    def close() -> Any:
        if start:
            start.wait()
        return run(factory, live_records.transition, teacher, sid, "close", {}, datetime.now(UTC))

    with ThreadPoolExecutor(len(players) + 1 if concurrent else 1) as pool:
        answers = [pool.submit(answer, p) for p in players[:6]]
        closing = pool.submit(close)
        answers += [pool.submit(answer, p) for p in players[6:]]
        _view, announcement = closing.result()
        codes = [a.result() for a in answers]
    assert all(c in (201, 409) for c in codes)
    recorded = run(factory, lambda s: s.scalar(select(func.count()).select_from(LiveAnswer)))
    assert recorded == codes.count(201)
    assert announcement.learner_event["results"]["distribution"]["answered"] == recorded
    if not concurrent:
        assert codes[:6] == [201] * 6 and codes[6:] == [409] * 6


def test_the_deadline_closes_the_question_without_anyone_acting(factory: Any) -> None:
    teacher = person(factory, "teacher", "instructor")
    ada = person(factory, "ada", "learner")
    run(factory, records.publish, teacher, "q", {"spec": SPEC})
    none = live_records.Teams()
    sid = run(factory, live_records.start, teacher, "q", {}, none, datetime.now(UTC))["session"][
        "id"
    ]
    run(factory, live_records.join, ada, sid, none, datetime.now(UTC))
    opened = datetime.now(UTC)
    run(factory, live_records.transition, teacher, sid, "next", {"countdown": 5}, opened)
    question = view_question(factory, teacher, sid)
    late = opened + timedelta(seconds=5)
    with pytest.raises(APIError) as info:
        body = {"question": question, "answer": first_answer(question)}
        run(factory, live_records.answer, ada, sid, body, late)
    assert info.value.code == "live_state"
    announcement = run(factory, live_records.settle_row, COURSE, sid, late)
    assert announcement is not None and announcement.action == "question_closed"
    # announced once: a second settle (another replica's timer) says nothing new
    assert run(factory, live_records.settle_row, COURSE, sid, late) is None


def view_question(factory: Any, caller: Caller, sid: int) -> str:
    return run(factory, live_records.view_by_id, caller, sid, datetime.now(UTC))["question"]["id"]


def first_answer(question_id: str) -> Any:
    return "a" if question_id == "q1" else 2
