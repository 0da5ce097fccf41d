"""Live rounds: the published points and streak rules, a session that can only move through
legal states with messages a person can act on, results that reveal nothing early, and team
scores that team size cannot decide."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cohortlab.quizzes.grading import Result
from cohortlab.quizzes.live import (
    LiveError,
    LiveState,
    Player,
    Response,
    accept_answer,
    check_join,
    close_question,
    distribution,
    end_session,
    live_points,
    next_streak,
    open_question,
    remaining,
    results_visible,
    score_answer,
    settle,
    standings,
    start_session,
    streak_bonus,
    team_scores,
)
from cohortlab.quizzes.spec import LiveOptions, parse_quiz, public_view
from hypothesis import given
from hypothesis import strategies as st

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RIGHT = Result(True, 1.0, 1.0)
WRONG = Result(False, 0.0, 1.0)

fractions = st.floats(min_value=0, max_value=1)
countdowns = st.floats(min_value=0.5, max_value=300)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- points ------------------------------------------------------------------------------


@given(countdowns)
def test_an_instant_right_answer_earns_1000_and_one_at_zero_earns_500(countdown: float) -> None:
    assert live_points(1.0, 0.0, countdown) == 1000
    assert live_points(1.0, countdown, countdown) == 500


def test_points_follow_the_published_formula_with_halves_rounded_up() -> None:
    assert live_points(1.0, 10, 20) == 750
    assert live_points(1.0, 1, 8) == 938  # 937.5 rounds up
    assert live_points(0.5, 5, 20) == 438  # 437.5 rounds up, where round() would give 438 too
    assert live_points(0.5, 0, 20, max_points=5) == 3  # 2.5 rounds up (round() gives 2)
    assert live_points(1.0, 0, 20, max_points=2000) == 2000


@given(fractions, countdowns, st.floats(0, 1), st.floats(0, 1))
def test_points_never_grow_with_time(fraction: float, countdown: float, a: float, b: float) -> None:
    early, late = sorted((a * countdown, b * countdown))
    assert live_points(fraction, early, countdown) >= live_points(fraction, late, countdown)


@given(st.floats(0, 1), st.floats(0, 1), countdowns, st.floats(0, 1))
def test_points_grow_with_correctness(a: float, b: float, countdown: float, t: float) -> None:
    low, high = sorted((a, b))
    elapsed = t * countdown
    assert live_points(low, elapsed, countdown) <= live_points(high, elapsed, countdown)


@given(fractions, countdowns, st.floats(0, 1))
def test_speed_points_lie_between_half_and_full_credit(
    fraction: float, countdown: float, t: float
) -> None:
    points = live_points(fraction, t * countdown, countdown)
    assert math.floor(500 * fraction + 0.5) <= points <= math.floor(1000 * fraction + 0.5)


@given(countdowns, st.floats(min_value=1e-9, max_value=1e9))
def test_times_outside_the_countdown_are_clamped(countdown: float, beyond: float) -> None:
    assert live_points(1.0, -beyond, countdown) == 1000
    assert live_points(1.0, countdown + beyond, countdown) == 500


@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["points", "tiebreak"]),
)
def test_points_are_defined_for_any_numbers(
    fraction: float, elapsed: float, countdown: float, speed: Any
) -> None:
    assert 0 <= live_points(fraction, elapsed, countdown, speed) <= 1000


def test_a_countdown_of_zero_or_less_gives_the_slowest_points() -> None:
    assert live_points(1.0, 0, 0) == 500
    assert live_points(1.0, 0, -5) == 500


@given(fractions, countdowns, st.floats(0, 1), st.floats(0, 1))
def test_in_tiebreak_mode_time_does_not_change_points(
    fraction: float, countdown: float, a: float, b: float
) -> None:
    first = live_points(fraction, a * countdown, countdown, "tiebreak")
    assert first == live_points(fraction, b * countdown, countdown, "tiebreak")
    assert first == math.floor(1000 * fraction + 0.5)


def test_unknown_speed_and_negative_maximum_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="speed"):
        live_points(1, 0, 20, "fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_points"):
        live_points(1, 0, 20, max_points=-1)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.tuples(st.integers(0, 5), st.floats(0, 100)),
        max_size=12,
    )
)
def test_tiebreak_standings_put_the_faster_of_equal_scores_first(
    raw: dict[str, tuple[int, float]],
) -> None:
    players = {u: Player(score=1000 * n, answer_time=t) for u, (n, t) in raw.items()}
    ranked = standings(players, "tiebreak")
    for better, worse in itertools.pairwise(ranked):
        a, b = players[better.user], players[worse.user]
        assert a.score > b.score or (a.score == b.score and a.answer_time <= b.answer_time)
        assert (better.rank == worse.rank) == ((a.score, a.answer_time) == (b.score, b.answer_time))
    # In points mode, time is already in the score: equal scores share a rank.
    by_points = standings(players, "points")
    for a, b in itertools.pairwise(by_points):
        assert (a.rank == b.rank) == (a.score == b.score)


# --- streaks -----------------------------------------------------------------------------


def test_streak_bonus_grows_by_100_per_correct_answer_in_a_row_up_to_500() -> None:
    streak, bonuses = 0, []
    for _ in range(8):
        bonuses.append(streak_bonus(streak, True))
        streak = next_streak(streak, True)
    assert bonuses == [0, 100, 200, 300, 400, 500, 500, 500]
    assert streak == 8


@given(st.integers(-5, 10_000), st.booleans())
def test_streak_bonus_is_capped_and_only_for_correct_answers(previous: int, correct: bool) -> None:
    bonus = streak_bonus(previous, correct)
    assert 0 <= bonus <= 500
    if not correct:
        assert bonus == 0
        assert next_streak(previous, correct) == 0
    else:
        assert next_streak(previous, correct) == max(previous, 0) + 1


def _session(count: int = 5, **options: Any) -> LiveState:
    return start_session(count, LiveOptions(**options))


def _play(state: LiveState, player: Player, plan: list[Result | None]) -> list[int]:
    """Play ``plan`` (None: no answer) answering 2 s into each question; bonus per answer."""
    bonuses = []
    for i, result in enumerate(plan):
        state = open_question(state, at(30 * i))
        if result is not None:
            scored, player = score_answer(state, player, i, result, at(30 * i + 2))
            bonuses.append(scored.bonus)
        state = close_question(state, at(30 * i + 25))
    return bonuses


def test_a_missed_question_breaks_the_streak() -> None:
    assert _play(_session(), Player(), [RIGHT, RIGHT, None, RIGHT, RIGHT]) == [0, 100, 0, 100]
    player = Player(streak=2, last_correct=1)
    assert (player.streak_at(1), player.streak_at(2)) == (2, 0)  # shown after each question


def test_a_partly_right_answer_scores_its_share_but_breaks_the_streak() -> None:
    partial = Result(False, 0.5, 1.0)
    assert _play(_session(), Player(), [RIGHT, RIGHT, partial, RIGHT]) == [0, 100, 0, 0]


def test_streak_off_gives_no_bonus() -> None:
    assert _play(_session(streak=False), Player(), [RIGHT, RIGHT, RIGHT]) == [0, 0, 0]


def test_score_answer_keeps_totals_and_weights_by_question_points() -> None:
    state = open_question(_session(speed="tiebreak"), T0)
    double = Result(True, 2.0, 2.0)
    scored, player = score_answer(state, Player(), 0, double, at(3))
    assert (scored.points, scored.bonus, scored.elapsed) == (2000, 0, 3.0)
    assert player == Player(
        score=2000, streak=1, last_correct=0, answer_time=3.0, answered=1, correct=1
    )
    state = open_question(close_question(state, at(10)), at(20))
    scored, player = score_answer(state, player, 1, WRONG, at(25))
    assert scored.total == 0
    # A wrong answer's time is not part of the tie-break: only answers that earned points.
    assert (player.score, player.answer_time, player.answered, player.streak) == (2000, 3.0, 2, 0)


def test_a_late_answer_is_never_scored() -> None:
    state = open_question(_session(countdown=10), T0)
    with pytest.raises(LiveError, match="already closed"):
        score_answer(state, Player(), 0, RIGHT, at(10))


# --- the session state machine -----------------------------------------------------------


def test_a_session_runs_lobby_questions_results_end() -> None:
    state = _session(count=2, countdown=20)
    assert (state.phase, state.question) == ("lobby", -1)
    state = open_question(state, T0)
    assert (state.phase, state.question, state.deadline) == ("open", 0, at(20))
    assert remaining(state, at(5)) == 15
    state = close_question(state, at(8))
    assert (state.phase, state.closed_at) == ("closed", at(8))
    state = open_question(state, at(30), countdown=60)
    assert (state.question, state.deadline, state.countdown) == (1, at(90), 60)
    state = end_session(close_question(state, at(40)), at(50))
    assert (state.phase, state.ended_at) == ("ended", at(50))


def _in(phase: str) -> LiveState:
    """A two-question session in ``phase``; "last" is the last question's results."""
    state = _session(count=2)
    if phase == "lobby":
        return state
    state = open_question(state, T0)
    if phase == "open":
        return state
    state = close_question(state, at(5))
    if phase == "closed":
        return state
    state = close_question(open_question(state, at(10)), at(15))
    if phase == "last":
        return state
    return end_session(state, at(20))


OPS = {
    "open": lambda s, now: open_question(s, now),
    "close": lambda s, now: close_question(s, now),
    "end": lambda s, now: end_session(s, now),
    "join": lambda s, now: check_join(s),
    "answer current": lambda s, now: accept_answer(s, max(s.question, 0), now),
    "answer next": lambda s, now: accept_answer(s, s.question + 1, now),
    "answer previous": lambda s, now: accept_answer(s, s.question - 1, now),
}
ILLEGAL = {
    ("lobby", "close"): "No question is open yet: show the first question",
    ("lobby", "answer current"): "has not started yet",
    ("lobby", "answer next"): "has not started yet",
    ("lobby", "answer previous"): "has not started yet",
    ("open", "open"): "Question 1 is still open: close it",
    ("open", "answer next"): "not open yet",
    ("open", "answer previous"): "already closed",
    ("closed", "close"): "Question 1 is already closed",
    ("closed", "answer current"): "already closed",
    ("closed", "answer next"): "not open yet",
    ("closed", "answer previous"): "already closed",
    ("last", "open"): "No more questions: end the session",
    ("last", "close"): "Question 2 is already closed",
    ("last", "answer current"): "already closed",
    ("last", "answer next"): "not open yet",
    ("last", "answer previous"): "already closed",
    ("ended", "open"): "The session has ended; start a new session",
    ("ended", "close"): "The session has ended",
    ("ended", "end"): "The session has already ended",
    ("ended", "join"): "has ended; you can no longer join",
    ("ended", "answer current"): "The session has ended; answers are closed",
    ("ended", "answer next"): "The session has ended; answers are closed",
    ("ended", "answer previous"): "The session has ended; answers are closed",
}


@pytest.mark.parametrize("phase", ["lobby", "open", "closed", "last", "ended"])
@pytest.mark.parametrize("op", list(OPS))
def test_every_transition_is_allowed_or_refused_with_a_message(phase: str, op: str) -> None:
    state = _in(phase)
    now = at(2) if phase == "open" else at(30)  # within the open question's countdown
    if (phase, op) in ILLEGAL:
        with pytest.raises(LiveError, match=ILLEGAL[phase, op]):
            OPS[op](state, now)
    else:
        OPS[op](state, now)  # allowed: no error


def test_answers_count_only_before_the_deadline_by_service_time() -> None:
    state = open_question(_session(countdown=20), T0)
    assert accept_answer(state, 0, at(19.999)) == pytest.approx(19.999)
    with pytest.raises(LiveError, match="already closed"):
        accept_answer(state, 0, at(20))
    # A replica whose clock is slightly behind: the time taken is never negative.
    assert accept_answer(state, 0, at(-0.2)) == 0.0


def test_the_countdown_closes_the_question_without_a_timer() -> None:
    state = open_question(_session(count=3, countdown=20), T0)
    assert settle(state, at(19)) == state
    closed = settle(state, at(21))
    assert (closed.phase, closed.closed_at) == ("closed", at(20))
    assert remaining(state, at(21)) == 0
    # The instructor may then show the next question directly, or close it explicitly.
    assert open_question(state, at(40)).question == 1
    assert close_question(state, at(40)).closed_at == at(20)
    # Ending an open question closes it at that moment.
    assert end_session(state, at(5)).closed_at == at(5)


def test_the_countdown_is_configurable_within_limits() -> None:
    with pytest.raises(LiveError, match="from 5 to 300"):
        start_session(3, LiveOptions(countdown=2))
    state = start_session(3, LiveOptions(countdown=30))
    assert open_question(state, T0).deadline == at(30)
    with pytest.raises(LiveError, match="from 5 to 300"):
        open_question(state, T0, countdown=301)
    with pytest.raises(LiveError, match="no questions"):
        start_session(0)


def test_times_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        open_question(_session(), datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "fields",
    [
        {"phase": "open"},  # no question
        {"phase": "lobby", "question": 0, "opened_at": T0, "deadline": at(20)},
        {"phase": "open", "question": 0, "opened_at": T0, "deadline": T0},
        {"phase": "closed", "question": 0, "opened_at": T0, "deadline": at(20)},
        {
            "phase": "closed",
            "question": 0,
            "opened_at": T0,
            "deadline": at(20),
            "closed_at": at(30),
        },
        {"phase": "ended"},  # no ended_at
        {"phase": "paused"},
        {"question": 7},
    ],
)
def test_a_corrupted_session_row_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="invalid live session state"):
        LiveState(question_count=3, **fields)


def _apply(state: LiveState, op: str, now: datetime, offset: int) -> LiveState:
    if op == "open":
        return open_question(state, now)
    if op == "close":
        return close_question(state, now)
    if op == "end":
        return end_session(state, now)
    if op == "join":
        check_join(state)
    else:
        question = state.question + offset
        elapsed = accept_answer(state, question, now)
        # Accepted only for the open question, before its deadline, by service time.
        assert state.opened_at is not None and state.deadline is not None
        assert question == state.question and state.opened_at <= now < state.deadline
        assert 0 <= elapsed < state.countdown
    return settle(state, now)


@given(
    st.integers(1, 4),
    st.lists(
        st.tuples(
            # Ending is rarer than in a uniform draw, so sessions get somewhere first.
            st.sampled_from(["open", "open", "close", "join", "answer", "answer", "end"]),
            st.floats(0, 25),
            st.sampled_from([0, 0, 0, -1, 1]),  # which question, from the current one
        ),
        max_size=40,
    ),
)
def test_any_sequence_of_operations_keeps_the_session_valid(
    count: int, ops: list[tuple[str, float, int]]
) -> None:
    state, now = start_session(count, LiveOptions(countdown=20)), T0
    for op, wait, offset in ops:
        now += timedelta(seconds=wait)
        before = state
        try:
            state = _apply(state, op, now, offset)
        except LiveError as e:
            assert str(e).endswith(".") and len(str(e)) > 10  # a sentence, not a code
            continue
        # Valid (the constructor checks), storable, and only ever moving forward.
        assert LiveState.from_json(state.as_json()) == state
        assert state.question >= before.question
        assert before.phase != "ended" or state == before
        if state.phase == "open":
            assert state.deadline == state.opened_at + timedelta(seconds=20)  # type: ignore[operator]


# --- results after each question ---------------------------------------------------------

QUIZ = parse_quiz(
    {
        "id": "live",
        "title": "Live",
        "questions": [
            {
                "id": "pick",
                "type": "single",
                "prompt": "?",
                "choices": [
                    {"id": "a", "text": "Alpha", "correct": False},
                    {"id": "b", "text": "Beta", "correct": True},
                    {"id": "c", "text": "Gamma", "correct": False},
                ],
            },
            {
                "id": "ticks",
                "type": "multiple",
                "prompt": "?",
                "scoring": "partial",
                "choices": [
                    {"id": "x", "text": "X", "correct": True},
                    {"id": "y", "text": "Y", "correct": True},
                    {"id": "z", "text": "Z", "correct": False},
                ],
            },
            {"id": "name", "type": "text", "prompt": "?", "answers": ["OLS"]},
        ],
    }
)
VIEW = public_view(QUIZ, "presenter")["questions"]


def test_single_choice_results_count_each_choice_in_the_presenters_order() -> None:
    answers = [Response("b", True, 1), Response("b", True, 1), Response("a", False)]
    result = distribution(VIEW[0], answers, joined=5).as_json()
    assert result == {
        "question": "pick",
        "type": "single",
        "answered": 3,
        "correct": 2,
        "partial": 0,
        "incorrect": 1,
        "no_answer": 2,
        "choices": [
            {"id": "a", "text": "Alpha", "count": 1},
            {"id": "b", "text": "Beta", "count": 2},
            {"id": "c", "text": "Gamma", "count": 0},
        ],
    }


def test_multiple_choice_results_count_how_many_ticked_each_choice() -> None:
    answers = [
        Response(["x", "y"], True, 1),
        Response(["x", "z"], False, 0),
        Response(["x"], False, 0.5),
    ]
    result = distribution(VIEW[1], answers)
    assert {c.id: c.count for c in result.choices} == {"x": 3, "y": 1, "z": 1}
    assert (result.correct, result.partial, result.incorrect, result.no_answer) == (1, 1, 1, None)


def test_free_answers_are_never_shown_only_right_and_wrong_counts() -> None:
    answers = [Response("ols", True, 1), Response("my friend Sam's phone number", False)]
    result = distribution(VIEW[2], answers).as_json()
    assert "choices" not in result
    assert "Sam" not in repr(result)
    assert (result["correct"], result["incorrect"]) == (1, 1)


@given(st.lists(st.sampled_from(["a", "b", "c", "unknown", 7]), max_size=40), st.integers(0, 60))
def test_counts_add_up(picks: list[Any], joined: int) -> None:
    answers = [Response(p, p == "b", float(p == "b")) for p in picks]
    result = distribution(VIEW[0], answers, joined=joined)
    valid = sum(p in ("a", "b", "c") for p in picks)
    assert sum(c.count for c in result.choices) == valid
    assert result.correct + result.partial + result.incorrect == result.answered == len(picks)
    assert result.no_answer == max(0, joined - len(picks))


def test_results_are_visible_only_once_the_question_has_closed() -> None:
    state = open_question(_session(count=3), T0)
    assert not results_visible(state, 0)
    closed = close_question(state, at(5))
    assert results_visible(closed, 0)
    assert not results_visible(closed, 1)
    nxt = open_question(closed, at(10))
    assert results_visible(nxt, 0) and not results_visible(nxt, 1)
    assert results_visible(end_session(nxt, at(12)), 1)


# --- teams -------------------------------------------------------------------------------


def test_team_score_is_the_mean_of_members_who_joined() -> None:
    totals = {"ann": 1000, "bo": 500, "cy": 0, "di": 900, "ed": 300}
    team_of = {"ann": "red", "bo": "red", "cy": "red", "di": "blue", "absent": "blue"}
    ranked = team_scores(totals, team_of)
    assert [(t.rank, t.team, t.score, t.members) for t in ranked] == [
        (1, "blue", 900.0, 1),
        (2, "red", 500.0, 3),
    ]  # ed has no team; "absent" did not join and does not pull blue down


scores = st.integers(0, 10_000)


@given(
    st.dictionaries(
        st.sampled_from("abcdef"), st.lists(scores, min_size=1, max_size=6), min_size=1
    ),
    st.lists(st.integers(1, 5), min_size=6, max_size=6),
)
def test_team_size_does_not_decide_the_team_score(
    teams: dict[str, list[int]], copies: list[int]
) -> None:
    """Every team grown by clones of its own members (k per member) keeps mean and rank."""
    totals, team_of, grown_totals, grown_team_of = {}, {}, {}, {}
    for n, (team, members) in enumerate(sorted(teams.items())):
        for i, score in enumerate(members):
            totals[f"{team}{i}"], team_of[f"{team}{i}"] = score, team
            for k in range(copies[n]):
                grown_totals[f"{team}{i}-{k}"], grown_team_of[f"{team}{i}-{k}"] = score, team
    small = [(t.rank, t.team, t.score) for t in team_scores(totals, team_of)]
    big = [(t.rank, t.team, t.score) for t in team_scores(grown_totals, grown_team_of)]
    assert small == big
    for _, team, score in small:
        assert score == pytest.approx(sum(teams[team]) / len(teams[team]))


def test_equal_team_means_go_to_the_faster_team_in_tiebreak_mode() -> None:
    totals = {"a": 1000, "b": 1000}
    team_of = {"a": "red", "b": "blue"}
    ranked = team_scores(totals, team_of, answer_time={"a": 9.0, "b": 4.0})
    assert [(t.rank, t.team) for t in ranked] == [(1, "blue"), (2, "red")]
    assert [t.rank for t in team_scores(totals, team_of)] == [1, 1]
