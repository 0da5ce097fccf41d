"""Grade one learner's answer to one question.

Grading runs in the service against the parsed :class:`~cohortlab.quizzes.spec.Question`,
which holds the key. A malformed answer (wrong shape, unknown id) raises
:class:`AnswerError` instead of being graded, so a typo or a stale client never costs a
learner an attempt; its message says what to send and never reveals the right answer:
ids are listed sorted, never in the key's (or the author's) order, which for an ordering
question would be the answer itself.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .spec import Question, normalise_text

MAX_TEXT_ANSWER = 1_000
#: How long one text answer may take against the question's pattern. Sane patterns take
#: microseconds; one that backtracks badly could take hours on a crafted 40-character answer.
PATTERN_SECONDS = 0.1

log = logging.getLogger(__name__)


class AnswerError(ValueError):
    """The answer cannot be graded as sent; the message tells the learner what to change."""


@dataclass(frozen=True)
class Result:
    correct: bool
    score: float
    max_score: float
    feedback: str | None = None
    timed_out: bool = False  # a text answer cut off by the pattern's time limit


#: Said instead of a verdict for an answer the pattern could not judge in time.
TIMED_OUT = (
    "This answer could not be checked in time (the question's pattern took too long on "
    "it), so it counts as wrong and used an attempt. Tell your instructor, who can fix "
    "the question."
)


def _score(question: Question, fraction: float) -> float:
    # Rounded so partial scores add up cleanly in totals (no 0.30000000000000004).
    return round(question.points * max(0.0, min(1.0, fraction)), 6)


def _ids(answer: Any, known: list[str], noun: str) -> list[str]:
    """A list of distinct known ids; the shared check for multiple choice and ordering."""
    listed = ", ".join(sorted(known))
    if not isinstance(answer, list | tuple) or not all(isinstance(a, str) for a in answer):
        raise AnswerError(f"Send a list of {noun} ids, from: {listed}.")
    unknown = sorted({a for a in answer if a not in known})
    if unknown:
        shown = ", ".join(repr(a[:40]) for a in unknown[:5])
        raise AnswerError(f"Unknown {noun} id(s): {shown}; choose from: {listed}.")
    duplicates = sorted(a for a, n in Counter(answer).items() if n > 1)
    if duplicates:
        raise AnswerError(f"Each {noun} may appear once; repeated: {', '.join(duplicates)}.")
    return list(answer)


def _single(question: Question, answer: Any) -> Result:
    known = [c.id for c in question.choices]
    if not isinstance(answer, str) or answer not in known:
        raise AnswerError(f"Choose one of: {', '.join(sorted(known))}.")
    choice = next(c for c in question.choices if c.id == answer)
    score = _score(question, choice.correct)
    return Result(choice.correct, score, question.points, choice.feedback)


def _multiple(question: Question, answer: Any) -> Result:
    """All-or-nothing, or partial: (right picks - wrong picks) / correct choices, floored at 0.

    Penalising wrong picks stops "tick everything" from earning points.
    """
    picked = set(_ids(answer, [c.id for c in question.choices], "choice"))
    right = {c.id for c in question.choices if c.correct}
    correct = picked == right
    if question.scoring == "partial":
        fraction = (len(picked & right) - len(picked - right)) / len(right)
    else:
        fraction = float(correct)
    notes = [c.feedback for c in question.choices if c.id in picked and not c.correct]
    feedback = "\n\n".join(n for n in notes if n) or None
    return Result(correct, _score(question, fraction), question.points, feedback)


def _numeric(question: Question, answer: Any) -> Result:
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        raise AnswerError("Enter a number.")
    try:
        value = float(answer)
    except OverflowError:
        raise AnswerError("That number is too large.") from None
    if not math.isfinite(value):
        raise AnswerError("Enter a finite number (not NaN or infinity).")
    assert question.answer is not None  # the spec requires it for numeric questions
    if question.relative_tolerance is not None:
        allowed = question.relative_tolerance * abs(question.answer)
    else:
        allowed = question.tolerance
    correct = abs(value - question.answer) <= allowed
    return Result(
        correct,
        _score(question, correct),
        question.points,
        None if correct else question.feedback,
    )


def _text(question: Question, answer: Any) -> Result:
    if not isinstance(answer, str):
        raise AnswerError("Type your answer as text.")
    if len(answer) > MAX_TEXT_ANSWER:
        raise AnswerError(
            f"Your answer is {len(answer):,} characters; keep it under {MAX_TEXT_ANSWER:,}."
        )
    given = normalise_text(answer, case_sensitive=question.case_sensitive)
    if not given:
        raise AnswerError("Type an answer before submitting.")
    if given in question.answers:
        return Result(True, _score(question, 1.0), question.points, None)
    if question.pattern is None:
        return Result(False, 0.0, question.points, None)
    try:
        correct = question.pattern.fullmatch(given, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        # Graded as a wrong attempt, not refused: a refusal would be free, and unlimited
        # free probes that time out (or not) tell a learner about the pattern, besides
        # costing the service a tenth of a second each.
        log.warning(
            "Question %r: its pattern %r took over %s s on an answer; it backtracks too much "
            "and should be rewritten",
            question.id,
            question.pattern.pattern,
            PATTERN_SECONDS,
        )
        return Result(False, 0.0, question.points, TIMED_OUT, timed_out=True)
    return Result(correct, _score(question, correct), question.points, None)


def _ordering(question: Question, answer: Any) -> Result:
    """All-or-nothing, or partial: the share of the key's neighbouring pairs (k, k+1) that
    the answer puts in the right relative order, so one misplaced item costs little."""
    known = [i.id for i in question.items]
    order = _ids(answer, known, "item")
    missing = sorted(k for k in known if k not in order)
    if missing:
        raise AnswerError(f"Put every item in order; missing: {', '.join(missing)}.")
    position = {item: n for n, item in enumerate(order)}
    pairs = list(itertools.pairwise(known))
    in_order = sum(position[a] < position[b] for a, b in pairs)
    correct = in_order == len(pairs)
    fraction = in_order / len(pairs) if question.scoring == "partial" else float(correct)
    return Result(correct, _score(question, fraction), question.points, None)


_GRADERS = {
    "single": _single,
    "multiple": _multiple,
    "numeric": _numeric,
    "text": _text,
    "ordering": _ordering,
}


def grade(question: Question, answer: Any) -> Result:
    """Grade ``answer`` (already decoded from JSON) against ``question``'s key.

    Raises :class:`AnswerError` for an answer of the wrong shape; the caller turns it into
    a 400 so the learner can correct it without losing an attempt. A text answer the
    pattern cannot judge within :data:`PATTERN_SECONDS` is wrong (``timed_out``), so it
    costs an attempt like any other.
    """
    return _GRADERS[question.type](question, answer)
