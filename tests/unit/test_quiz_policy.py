"""The quiz integrity rule (``cohortlab.quizzes.policy``): when an answer counts and when a
learner may see a key, first as pure decisions, then through the service's own functions
on a real database, for each hole issue 13 found. The property test over random sequences
of events is ``test_quiz_integrity.py``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cohortlab.quizzes import policy
from cohortlab.quizzes.policy import Facts
from sqlalchemy import Engine

from .quiz_world import (
    QIDS,
    QuizWorld,
    keys_in,
    quiz_world,
)

NOW = datetime(2030, 5, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


# --- the rule, pure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "refusal"),
    [
        (Facts(NOW), None),
        (Facts(NOW, opens=NOW + HOUR), policy.NOT_OPEN),
        (Facts(NOW, closes=NOW), policy.CLOSED),
        (Facts(NOW, closes=NOW + HOUR), None),
        (Facts(NOW, revealed=True), policy.REVEALED),
        (Facts(NOW, attempts=2, used=2), policy.NO_ATTEMPTS),
        (Facts(NOW, live_running=True), policy.LIVE_ROUND),
        (Facts(NOW, shown=True), policy.KEY_SHOWN),
    ],
)
def test_a_self_paced_answer_counts_only_while_everything_allows_it(
    facts: Facts, refusal: str | None
) -> None:
    assert policy.self_paced_refusal(facts) == refusal


@pytest.mark.parametrize(
    ("facts", "visible"),
    [
        (Facts(NOW), False),  # attempts left
        (Facts(NOW, opens=NOW + HOUR), False),  # will open
        (Facts(NOW, used=1), True),  # no attempts left
        (Facts(NOW, closes=NOW), True),
        (Facts(NOW, revealed=True), True),
        (Facts(NOW, live_running=True), False),  # self-paced answering only paused
        (Facts(NOW, live_running=True, used=1), True),  # the round has closed it
        (Facts(NOW, revealed=True, live_running=True, live_pending=True), False),
        (Facts(NOW, shown=True, live_running=True, live_pending=True), False),
        (Facts(NOW, shown=True), True),
    ],
)
def test_the_key_waits_until_no_answer_can_count(facts: Facts, visible: bool) -> None:
    assert policy.key_visible(facts) is visible
    if visible:
        assert not policy.can_still_earn(facts)


def test_until_the_key_shows_a_score_says_only_right_or_wrong() -> None:
    assert policy.shown_score(0.5, False, visible=False) == 0.0
    assert policy.shown_score(2.0, True, visible=False) == 2.0
    assert policy.shown_score(0.5, False, visible=True) == 0.5
    assert not policy.feedback_visible("multiple", visible=False)
    assert policy.feedback_visible("multiple", visible=True)
    assert policy.feedback_visible("single", visible=False)


# --- through the service's functions --------------------------------------------------------


@pytest.fixture
def world(cl_quiz_engine: Engine) -> Iterator[QuizWorld]:
    with quiz_world(cl_quiz_engine, datetime.now(UTC)) as w:
        yield w


def test_no_answer_is_taken_once_the_answers_are_revealed(world: QuizWorld) -> None:
    world.publish(attempts=3)
    assert world.answer("ann", "one", "wrong")[1] is None
    world.settings(revealed=True)
    _out, refused = world.answer("ann", "one", "right")
    assert refused is not None and (refused.status_code, refused.code) == (409, "quiz_revealed")
    assert world.view("ann")["state"]["one"]["attempts_used"] == 1
    # hiding the answers again reopens the quiz, but not the questions ann has seen
    world.settings(revealed=False)
    assert world.answer("ann", "one", "right")[1].code == "key_shown"
    assert world.answer("ann", "num", "right")[1].code == "key_shown"
    assert world.answer("bob", "one", "right")[1] is None  # bob never looked


def test_a_key_seen_at_the_close_stops_answers_after_an_extension(world: QuizWorld) -> None:
    world.publish(closes=(world.now + HOUR).isoformat())
    world.tick(2 * 3600)
    assert keys_in(world.view("ann")) == set(QIDS)  # closed for ann: every key shown
    world.extend("ann", world.now + HOUR)
    world.extend("bob", world.now + HOUR)
    assert world.answer("ann", "one", "right")[1].code == "key_shown"
    # bob never looked after the close: his extension works as meant
    out, refused = world.answer("bob", "one", "right")
    assert refused is None and out["result"]["correct"] is True
    view = world.view("ann")
    assert view["state"]["one"]["done"] is True and "correct_answer" in view["state"]["one"]


def test_more_attempts_do_not_reopen_a_question_whose_key_was_shown(world: QuizWorld) -> None:
    world.publish(attempts=1)
    out, _ = world.answer("ann", "one", "wrong")
    assert out["result"]["correct_answer"] == "r"  # done: the key comes with the result
    world.settings(attempts=3)
    assert world.answer("ann", "one", "right")[1].code == "key_shown"


def test_self_paced_answers_wait_for_a_running_live_round(world: QuizWorld) -> None:
    """Spending self-paced attempts during a countdown would grade the live question aloud
    (and, with the attempts gone, return its key)."""
    world.publish(attempts=2)
    sid = world.start_round()
    world.step(sid, "next", countdown=30)
    for kind in ("wrong", "wrong"):
        _out, refused = world.answer("ann", "one", kind)
        assert refused is not None and refused.code == "live_round_running"
    world.step(sid, "end")
    assert world.answer("ann", "one", "wrong")[1] is None


def test_a_pending_live_question_hides_its_key_even_when_self_paced_is_over(
    world: QuizWorld,
) -> None:
    world.publish(attempts=1)
    for q in QIDS:
        world.answer("bob", q, "wrong")  # nothing left to answer self-paced
    sid = world.start_round()
    assert keys_in(world.view("bob")) == set()  # the lobby: every question still to come
    world.step(sid, "next", countdown=30)
    world.step(sid, "close")
    first = world.live_view("bob", sid)["question"]["id"]
    assert keys_in(world.view("bob")) == {first}  # closed in the round, so shown again
    world.step(sid, "end")
    assert keys_in(world.view("bob")) == set(QIDS)


def test_a_closed_live_question_shows_its_key_to_its_players_and_ends_their_chance_at_it(
    world: QuizWorld,
) -> None:
    """As in Kahoot, the round's players see a question's key when the round closes it,
    even ann, whose extension would let her still answer it self-paced: the key is recorded
    as shown, so after the round her self-paced answer to it no longer counts. cy, who did
    not play, gets no key from the round and keeps her chance (tests/integration/
    test_live_quiz_api.py checks that with dee)."""
    world.publish(closes=(world.now - HOUR).isoformat())
    world.extend("ann", world.now + HOUR)
    sid = world.start_round()
    for learner in ("ann", "bob"):
        world.join(learner, sid)
    world.step(sid, "next", countdown=30)
    view = world.live_view("ann", sid)
    qid = view["question"]["id"]
    assert keys_in(view) == set()  # pending: no key for anyone
    for learner, kind in (("ann", "right"), ("bob", "wrong")):
        assert world.live_answer(learner, sid, qid, kind)[1] is None
    (closed, announcement), _ = world.step(sid, "close")
    assert keys_in(closed) == {qid}  # the instructor's own view
    assert sorted(announcement.keyed_players) == ["ann", "bob"]
    assert keys_in(announcement.learner_event) == set()
    assert keys_in(announcement.keyed_event) == {qid}
    assert keys_in(announcement.staff_event) == {qid}
    assert keys_in(world.live_view("ann", sid)) == {qid}
    assert world.live_view("ann", sid)["my_answer"]["correct"] is True
    world.step(sid, "end")
    # the key was shown to ann: her self-paced answer to the question does not count
    _, refused = world.answer("ann", qid, "right")
    assert refused is not None and refused.code == "key_shown"


def test_wrong_attempts_show_no_partial_credit_until_the_key_may_be_shown(
    world: QuizWorld,
) -> None:
    """A partial score on a wrong attempt says how close it came: with attempts left, a
    learner could search the key with it. So it reads 0 everywhere until the question is
    over for them, and then the partial credit shows."""
    world.publish(attempts=2)
    out, _ = world.answer("ann", "order", "partial")
    assert out["result"]["correct"] is False and out["result"]["score"] == 0
    assert out["question"]["score"] == 0 and out["score"] == 0
    assert world.view("ann")["score"] == 0 and world.summary("ann")["score"] == 0
    assert world.board("ann")["me"]["score"] == 0
    assert world.board("teacher")["top"][0]["score"] == 0  # the board is the same for all
    out, _ = world.answer("ann", "order", "partial")
    assert out["result"]["score"] == pytest.approx(2 / 3) and out["score"] == pytest.approx(2 / 3)
    assert world.board("bob")["top"][0]["score"] == pytest.approx(2 / 3)


def test_multiple_choice_feedback_waits_for_the_key(world: QuizWorld) -> None:
    """One note per wrongly ticked choice tells which choices are wrong: part of the key."""
    world.publish(attempts=2)
    out, _ = world.answer("ann", "many", "wrong")
    assert out["result"]["feedback"] == [] and keys_in(out, "many") == set()
    assert world.view("ann")["state"]["many"]["feedback"] == []
    out, _ = world.answer("ann", "many", "partial")
    assert out["result"]["feedback"] == ["FB-wrong-x"]
    # a numeric hint is no part of the key: shown after any wrong answer
    out, _ = world.answer("ann", "num", "wrong")
    assert out["result"]["feedback"] == ["A hint, shown after any wrong answer."]


def test_an_answer_cut_off_by_the_pattern_time_limit_uses_an_attempt(world: QuizWorld) -> None:
    from cohortlab.quizzes import records

    spec = {
        "id": "probe",
        "title": "Pattern",
        "attempts": 2,
        "questions": [{"id": "w", "type": "text", "prompt": "?", "pattern": "(a|aa)+"}],
    }
    world.ok(records.publish, world.people["teacher"], "probe", {"spec": spec})
    slow = {"question": "w", "answer": "a" * 60 + "!"}
    for left in (1, 0):
        out = world.ok(records.submit, world.people["ann"], "probe", slow, world.now)
        assert out["result"]["correct"] is False and out["result"]["attempts_left"] == left
        assert "could not be checked in time" in out["result"]["feedback"][0]
    started = time.monotonic()
    _out, refused = world.call(records.submit, world.people["ann"], "probe", slow, world.now)
    # refused before the pattern runs: no attempt, no time spent, nothing learnt
    assert refused is not None and refused.code == "no_attempts_left"
    assert time.monotonic() - started < 0.05
    assert world.view("ann")["state"]["w"]["attempts_used"] == 2


def test_a_live_answer_from_someone_shown_the_key_does_not_count(world: QuizWorld) -> None:
    world.publish()
    world.settings(revealed=True)
    world.view("ann")  # ann reads the revealed answers; bob does not
    sid = world.start_round()
    for learner in ("ann", "bob"):
        world.join(learner, sid)
    world.step(sid, "next", countdown=30)
    qid = world.live_view("bob", sid)["question"]["id"]
    assert qid not in keys_in(world.view("bob"))  # pending in the round: hidden, revealed or not
    assert world.live_answer("ann", sid, qid, "right")[1].code == "key_shown"
    assert world.live_answer("bob", sid, qid, "right")[1] is None


def test_a_key_read_in_a_rounds_results_stops_answers_after_reopening(
    world: QuizWorld,
) -> None:
    """bob never joins the round, but reads its results once a question has closed: the
    quiz is closed for him, so he is shown the key, and reopening the quiz later does not
    let him answer that question."""
    world.publish(closes=(world.now + HOUR).isoformat())
    world.tick(2 * 3600)
    sid = world.start_round()
    world.join("ann", sid)
    world.step(sid, "next", countdown=30)
    world.step(sid, "close")
    seen = world.live_view("bob", sid)
    qid = seen["question"]["id"]
    assert keys_in(seen) == {qid}
    world.step(sid, "end")
    world.settings(closes_at=None)
    assert world.answer("bob", qid, "right")[1].code == "key_shown"
    other = next(q for q in QIDS if q != qid)
    assert world.answer("bob", other, "right")[1] is None
