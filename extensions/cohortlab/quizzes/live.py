"""Live (instructor-paced) quiz rounds: the session's states, points, streaks, results, teams.

Pure functions over frozen values, with no database and no clock: the service reads the
session row, calls one function here with the time *it* measured, and writes back what it
gets, all in one transaction. Every replica computes the same thing from the same row,
so no state lives in one process's memory (DESIGN.md). A learner's clock or kernel never
supplies a time; every ``now``/``received_at`` is the service's (ideally the database's,
so replicas with slightly different clocks agree).

The published rules (docs/live-quizzes.md):

- points, speed mode: ``round(max * fraction * (1 - (t / T) / 2))`` (Kahoot's formula with
  partial credit), t clamped to [0, T]; ``round`` rounds halves up, like JavaScript's.
- points, tie-break mode: ``round(max * fraction)``; speed only orders equal totals, by
  the seconds taken by the answers that earned points.
- ``max`` is 1000 * the question's ``points`` (a 2-point question is worth up to 2000).
- streak bonus: +100 for each correct answer in a row before this one, at most +500.
- team score: the mean total of the team's members who joined the session
  (:func:`~cohortlab.quizzes.ranking.team_scores`, re-exported here; it ranks cohorts in
  self-paced leaderboards too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from .grading import Result
from .ranking import Ranked, Standing, rank
from .ranking import TeamScore as TeamScore  # re-exported: team mode is part of live
from .ranking import team_scores as team_scores
from .spec import COUNTDOWN_RANGE, LiveOptions

Speed = Literal["points", "tiebreak"]
Phase = Literal["lobby", "open", "closed", "ended"]
PHASES: tuple[str, ...] = ("lobby", "open", "closed", "ended")
MAX_POINTS = 1000  # per question worth 1 point
STREAK_STEP = 100
STREAK_CAP = 500


class LiveError(ValueError):
    """The operation does not fit the session's state; the message says what to do instead.

    The service turns it into a 409 with this message.
    """


# --- points and streaks ------------------------------------------------------------------


def _half_up(value: float) -> int:
    # Python's round() rounds halves to even; the published formula (like Kahoot's, in
    # JavaScript) rounds them up, and a person checking their score by hand expects that.
    return math.floor(value + 0.5)


def _unit(value: float) -> float:
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, value))


def time_ratio(elapsed: float, countdown: float) -> float:
    """t / T with t clamped to [0, T]; 1 (the slowest) for a countdown that is not positive.

    Total on purpose: replicas' clocks may put an answer a hair before the question opened
    (t < 0 counts as 0) and nothing here should raise in the middle of a transaction.
    """
    if not math.isfinite(countdown) or countdown <= 0 or math.isnan(elapsed):
        return 1.0
    return min(max(elapsed, 0.0), countdown) / countdown


def live_points(
    correct_fraction: float,
    elapsed: float,
    countdown: float,
    speed: Speed = "points",
    max_points: int = MAX_POINTS,
) -> int:
    """Points for one answer, before any streak bonus.

    ``speed="points"``: ``round(max_points * fraction * (1 - (t / T) / 2))`` — a right
    answer at once earns ``max_points``, one at the last moment half of it, so being right
    always matters more than being fast. ``speed="tiebreak"``: ``round(max_points *
    fraction)``; the caller keeps ``elapsed`` to order equal totals (:func:`standings`).
    ``correct_fraction`` is the graded share (1 right, 0 wrong, between for partial credit).
    An answer at or after zero is refused before it gets here (:func:`accept_answer`).
    """
    if max_points < 0:
        raise ValueError("max_points must be 0 or more")
    base = max_points * _unit(correct_fraction)
    if speed == "tiebreak":
        return _half_up(base)
    if speed != "points":
        raise ValueError(f"speed must be points or tiebreak, got {speed!r}")
    return _half_up(base * (1 - time_ratio(elapsed, countdown) / 2))


def next_streak(previous: int, correct: bool) -> int:
    """Correct answers in a row, this one included; any other answer (or none) resets it."""
    return max(previous, 0) + 1 if correct else 0


def streak_bonus(previous: int, correct: bool) -> int:
    """+100 per correct answer in a row *before* this one, capped at +500; 0 if not correct.

    So the 1st right answer earns no bonus, the 2nd +100, the 3rd +200 … the 6th and later
    +500. The cap keeps a long streak from outweighing a single question (max 1000).
    """
    return min(STREAK_STEP * max(previous, 0), STREAK_CAP) if correct else 0


# --- the session state machine -----------------------------------------------------------


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a time-zone-aware datetime (UTC)")
    return value


@dataclass(frozen=True)
class LiveState:
    """One live session, as stored in its row (see :meth:`as_json`).

    ``question`` is the index (in the quiz's question order) of the question open or last
    shown; -1 in the lobby. ``options`` are frozen when the session starts, so changing the
    quiz meanwhile does not change the rules of a round being played. Every state is
    checked on construction, so a corrupted row fails loudly instead of misbehaving.
    """

    question_count: int
    options: LiveOptions = field(default_factory=LiveOptions)
    phase: Phase = "lobby"
    question: int = -1
    opened_at: datetime | None = None
    deadline: datetime | None = None
    closed_at: datetime | None = None
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(f"invalid live session state: {problem}")

    def _problem(self) -> str | None:
        if self.question_count < 1:
            return "a session needs at least one question"
        if self.phase not in PHASES:
            return f"unknown phase {self.phase!r}"
        for name in ("opened_at", "deadline", "closed_at", "ended_at"):
            value = getattr(self, name)
            if value is not None:
                _aware(value, name)
        shown = self.question >= 0
        if not -1 <= self.question < self.question_count:
            return f"question {self.question} is outside 0..{self.question_count - 1}"
        if (self.phase == "lobby") == shown and self.phase != "ended":
            return "only the lobby has no question"
        if shown != (self.opened_at is not None and self.deadline is not None):
            return "a shown question needs opened_at and deadline"
        if self.opened_at and self.deadline and self.deadline <= self.opened_at:
            return "the deadline must be after the question opened"
        if (self.phase in ("closed", "ended") and shown) != (self.closed_at is not None):
            return "closed_at is set exactly when a shown question has closed"
        if (
            self.closed_at
            and self.opened_at
            and self.deadline
            and not self.opened_at <= self.closed_at <= self.deadline
        ):
            return "a question closes between its opening and its deadline"
        if (self.phase == "ended") != (self.ended_at is not None):
            return "ended_at is set exactly when the session has ended"
        return None

    @property
    def countdown(self) -> float:
        """Seconds the current question was given (0 when none has been shown)."""
        if self.opened_at is None or self.deadline is None:
            return 0.0
        return (self.deadline - self.opened_at).total_seconds()

    def as_json(self) -> dict[str, Any]:
        """JSON for the session row and for ``live`` frames (it holds no answer key)."""

        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "phase": self.phase,
            "question": self.question,
            "question_count": self.question_count,
            "options": {
                "countdown": self.options.countdown,
                "speed": self.options.speed,
                "streak": self.options.streak,
            },
            "opened_at": iso(self.opened_at),
            "deadline": iso(self.deadline),
            "closed_at": iso(self.closed_at),
            "ended_at": iso(self.ended_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LiveState:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return None if value is None else datetime.fromisoformat(value)

        return cls(
            question_count=data["question_count"],
            options=LiveOptions(**data.get("options", {})),
            phase=data["phase"],
            question=data["question"],
            opened_at=when("opened_at"),
            deadline=when("deadline"),
            closed_at=when("closed_at"),
            ended_at=when("ended_at"),
        )


def _check_countdown(countdown: int) -> int:
    low, high = COUNTDOWN_RANGE
    if (
        isinstance(countdown, bool)
        or not isinstance(countdown, int)
        or not low <= countdown <= high
    ):
        raise LiveError(f"The countdown must be whole seconds from {low} to {high}.")
    return countdown


def start_session(question_count: int, options: LiveOptions | None = None) -> LiveState:
    """A new session in the lobby: learners may join; no question is shown yet."""
    if question_count < 1:
        raise LiveError("This quiz has no questions to play.")
    options = options or LiveOptions()
    _check_countdown(options.countdown)
    return LiveState(question_count=question_count, options=options)


def settle(state: LiveState, now: datetime) -> LiveState:
    """The state as of ``now``: an open question whose countdown reached zero is closed.

    Closing at zero needs no timer to have fired: whoever reads the row next (any replica)
    sees the same closed question, closed at its deadline. Every transition settles first.
    """
    _aware(now, "now")
    if state.phase == "open" and state.deadline is not None and now >= state.deadline:
        return replace(state, phase="closed", closed_at=state.deadline)
    return state


def remaining(state: LiveState, now: datetime) -> float:
    """Seconds left to answer (0 unless a question is open), for the countdown display."""
    state = settle(state, now)
    if state.phase != "open" or state.deadline is None:
        return 0.0
    return max(0.0, (state.deadline - now).total_seconds())


def _ended(state: LiveState) -> None:
    if state.phase == "ended":
        raise LiveError("The session has ended; start a new session to play again.")


def open_question(state: LiveState, now: datetime, countdown: int | None = None) -> LiveState:
    """Show the next question (the first, from the lobby) with a countdown.

    ``countdown`` overrides the session's for this question only (5 to 300 s).
    ``deadline = opened_at + countdown``.
    """
    state = settle(state, now)
    _ended(state)
    if state.phase == "open":
        raise LiveError(
            f"Question {state.question + 1} is still open: close it before showing the next."
        )
    if state.question + 1 >= state.question_count:
        raise LiveError("No more questions: end the session.")
    seconds = _check_countdown(state.options.countdown if countdown is None else countdown)
    return replace(
        state,
        phase="open",
        question=state.question + 1,
        opened_at=now,
        deadline=now + timedelta(seconds=seconds),
        closed_at=None,
    )


def _closing_time(state: LiveState, now: datetime) -> datetime:
    assert state.opened_at is not None and state.deadline is not None
    # Never before it opened, even if this replica's clock is a little behind.
    return max(state.opened_at, min(now, state.deadline))


def close_question(state: LiveState, now: datetime) -> LiveState:
    """Close the open question before its countdown ends (e.g. everyone has answered).

    A question whose countdown already reached zero but whose row still says open is
    closed here too (at its deadline); one already stored as closed is refused.
    """
    _aware(now, "now")
    _ended(state)
    if state.phase == "lobby":
        raise LiveError("No question is open yet: show the first question.")
    if state.phase == "closed":
        raise LiveError(f"Question {state.question + 1} is already closed.")
    return replace(state, phase="closed", closed_at=_closing_time(state, now))


def end_session(state: LiveState, now: datetime) -> LiveState:
    """End the session from any state; an open question closes with it."""
    state = settle(state, now)
    if state.phase == "ended":
        raise LiveError("The session has already ended.")
    closed_at = _closing_time(state, now) if state.phase == "open" else state.closed_at
    return replace(state, phase="ended", closed_at=closed_at, ended_at=now)


def check_join(state: LiveState) -> None:
    """Learners may join in the lobby and at any time until the session ends."""
    if state.phase == "ended":
        raise LiveError("This live session has ended; you can no longer join.")


def accept_answer(state: LiveState, question: int, received_at: datetime) -> float:
    """Check an answer to question index ``question`` may count; return seconds taken.

    An answer counts only while its question is open and ``received_at < deadline``
    (service time). Call this inside the transaction that read the session row, so an
    answer and the instructor closing the question cannot both win.
    """
    state = settle(state, received_at)
    if state.phase == "lobby":
        raise LiveError("The quiz has not started yet: wait for the first question.")
    if state.phase == "ended":
        raise LiveError("The session has ended; answers are closed.")
    if question > state.question:
        raise LiveError("That question is not open yet.")
    if question < state.question or state.phase == "closed":
        raise LiveError("The question is already closed.")
    assert state.opened_at is not None
    return max(0.0, (received_at - state.opened_at).total_seconds())


def results_visible(state: LiveState, question: int) -> bool:
    """Whether results (distribution, correct answer) of ``question`` may be shown yet.

    Only once it has closed, so the distribution cannot hint at the answer while others
    are still answering.
    """
    if question < state.question:
        return True
    return question == state.question and state.phase in ("closed", "ended")


# --- one person's running total ----------------------------------------------------------


@dataclass(frozen=True)
class Player:
    """One person's totals in a session (one row per person who joined).

    ``last_correct`` is the index of the question of their latest correct answer, which
    lets a missed question break a streak without any step at close time.
    """

    score: int = 0
    streak: int = 0
    last_correct: int = -1
    answer_time: float = 0.0  # seconds taken by answers that earned points: the tie-break
    answered: int = 0
    correct: int = 0

    def streak_at(self, question: int) -> int:
        """The streak to show once question index ``question`` has closed (0 if missed)."""
        return self.streak if self.last_correct == question else 0


@dataclass(frozen=True)
class AnswerScore:
    points: int  # correctness * speed
    bonus: int  # streak bonus
    streak: int  # after this answer
    elapsed: float

    @property
    def total(self) -> int:
        return self.points + self.bonus


def fraction_of(result: Result) -> float:
    """The graded share of the question's points, 0..1."""
    return result.score / result.max_score if result.max_score > 0 else 0.0


def score_answer(
    state: LiveState, player: Player, question: int, result: Result, received_at: datetime
) -> tuple[AnswerScore, Player]:
    """Score one graded answer and return it with the player's new totals.

    Refuses (``LiveError``) exactly what :func:`accept_answer` refuses, so a late answer
    can never be scored. The streak continues only from a correct answer to the previous
    question; a partly right answer earns its share of points but breaks the streak.
    One answer per person and question is the store's unique constraint.
    """
    elapsed = accept_answer(state, question, received_at)
    options = state.options
    max_points = _half_up(MAX_POINTS * result.max_score)
    points = live_points(fraction_of(result), elapsed, state.countdown, options.speed, max_points)
    previous = player.streak_at(question - 1)
    bonus = streak_bonus(previous, result.correct) if options.streak else 0
    streak = next_streak(previous, result.correct)
    scored = AnswerScore(points, bonus, streak, elapsed)
    return scored, replace(
        player,
        score=player.score + scored.total,
        streak=streak,
        last_correct=question if result.correct else player.last_correct,
        answer_time=player.answer_time + (elapsed if points > 0 else 0.0),
        answered=player.answered + 1,
        correct=player.correct + result.correct,
    )


def standings(players: Mapping[str, Player], speed: Speed) -> list[Ranked]:
    """The session leaderboard; in tie-break mode equal totals go to the faster person."""
    return rank(
        (Standing(user, p.score, p.answer_time) for user, p in players.items()),
        tiebreak=speed == "tiebreak",
    )


# --- after each question: the distribution of answers -----------------------------------


@dataclass(frozen=True)
class Response:
    """One recorded answer to a question: what was sent and how it was graded."""

    answer: Any
    correct: bool
    fraction: float = 0.0  # graded share, for counting partly right answers


@dataclass(frozen=True)
class ChoiceCount:
    id: str
    text: str
    count: int


@dataclass(frozen=True)
class Distribution:
    """How the room answered one question, shown after it closes.

    Choice questions show a count per choice (for multiple choice, how many ticked it).
    Numeric, text and ordering questions show only right / partly right / wrong counts:
    free text may be personal or unkind on a projected screen, and per-ordering counts
    are too many to read.
    """

    question: str
    type: str
    answered: int
    correct: int
    partial: int
    incorrect: int
    no_answer: int | None
    choices: tuple[ChoiceCount, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "type": self.type,
            "answered": self.answered,
            "correct": self.correct,
            "partial": self.partial,
            "incorrect": self.incorrect,
            "no_answer": self.no_answer,
        }
        if self.type in ("single", "multiple"):
            data["choices"] = [{"id": c.id, "text": c.text, "count": c.count} for c in self.choices]
        return data


def _picked(kind: str, answer: Any) -> set[str]:
    if kind == "single":
        return {answer} if isinstance(answer, str) else set()
    if isinstance(answer, list | tuple):
        return {a for a in answer if isinstance(a, str)}
    return set()


def distribution(
    question_public_view: Mapping[str, Any],
    answers: Iterable[Response],
    joined: int | None = None,
) -> Distribution:
    """Count the answers to one question (one public question from ``public_view``).

    Choices are listed in the order of the view given (the presenter's), with their text,
    so the screen needs nothing else. Unknown ids (which grading refuses anyway) are not
    counted for any choice. With ``joined`` (people in the session) it also counts those who
    did not answer. The correct answer is not part of it: the service adds it, as in
    self-paced mode, once :func:`results_visible` says the question has closed.
    """
    kind = str(question_public_view["type"])
    responses = list(answers)
    counts: dict[str, int] = {}
    for response in responses:
        if kind in ("single", "multiple"):
            for choice in _picked(kind, response.answer):
                counts[choice] = counts.get(choice, 0) + 1
    correct = sum(1 for r in responses if r.correct)
    partial = sum(1 for r in responses if not r.correct and _unit(r.fraction) > 0)
    choices = tuple(
        ChoiceCount(str(c["id"]), str(c["text"]), counts.get(str(c["id"]), 0))
        for c in question_public_view.get("choices", ())
    )
    return Distribution(
        question=str(question_public_view["id"]),
        type=kind,
        answered=len(responses),
        correct=correct,
        partial=partial,
        incorrect=len(responses) - correct - partial,
        no_answer=None if joined is None else max(0, joined - len(responses)),
        choices=choices if kind in ("single", "multiple") else (),
    )
