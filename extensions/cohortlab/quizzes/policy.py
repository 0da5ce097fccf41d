"""When an answer counts, and when a learner may see a question's key: the one rule.

Learners are graded adversaries. Anything the service tells a learner about a question
while they can still earn credit for it is something they can use to earn it: a correct
answer shown by a live round while the quiz is still open self-paced, a key returned for
attempts spent during a live countdown, a partial score that says "warmer", an answer taken
after the answers were revealed. So every place that takes an answer or sends a key
(self-paced answers and views, live answers, views and events, scores and leaderboards)
asks this module, with the facts of that moment, and decides nothing on its own. It is
pure (no database, no clock) so the rule reads in one place and is tested over random
sequences of events through the service's functions (``tests/unit/test_quiz_integrity.py``,
case by case in ``test_quiz_policy.py``); ``cohortlab.quizzes.facts`` reads the facts
from the database.

The facts, for one learner and one question, at the service's ``now``:

- the self-paced window for them (``opens``; ``closes`` with their extension applied),
  whether the quiz is ``revealed``, and the attempts allowed and used;
- ``shown``: whether the service has ever sent them this question's key. It records that
  in the same transaction that decides to send it, before the response leaves, so no
  later change of settings can forget it;
- the quiz's running live round, if any, and whether this question is still *pending*
  in it (not yet closed: still to come, or open now).

The rule:

1. A self-paced answer counts only while the window is open for them, the quiz is not
   revealed, an attempt is left, no live round of the quiz is running (the round's
   questions would otherwise be answerable, with right/wrong feedback, during their
   countdown), and the question's key has never been shown to them. Otherwise it is
   refused and nothing is recorded.
2. A live answer counts only while its question is open in the round, before its deadline
   (:func:`cohortlab.quizzes.live.accept_answer`), and the key has never been shown to them.
3. They *can still earn* credit for a question while its key has not been shown to them
   and either a self-paced answer could count now or later (not revealed, an attempt left,
   their close not passed) or the question is pending in a running live round.
4. The key (the correct answer, the explanation, per-choice feedback) may be shown to them
   only when no running round has the question pending and they can no longer earn credit
   for it. A pending live question hides its key from everyone, even from those who have
   answered it, so nobody can pass it on while others still answer. When a round closes a
   question, its players see its key, as in Kahoot (the round is where they answered it):
   showing it is recorded, so by rule 5 it ends their chance at that question self-paced
   too, and it gives them nothing they can still earn with. Learners who did not play the
   round get the key only by the first sentence.
5. Whatever reopens a question later (an extension, a later close, more attempts, hiding
   the answers again, a new live round) cannot make an answer count once its key has
   been shown to that learner (1, 2): the reopened question stays "done" for them.
6. Until the key may be shown, a score says only right or wrong: each attempt counts its
   full points if right and 0 if not, never partial credit, which would let a learner
   search the key attempt by attempt. Partial credit shows once the key may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

WindowState = Literal["not_open", "open", "closed"]

# Why a self-paced answer is refused (the API's error codes, all 409).
NOT_OPEN = "quiz_not_open"
CLOSED = "quiz_closed"
REVEALED = "quiz_revealed"
NO_ATTEMPTS = "no_attempts_left"
LIVE_ROUND = "live_round_running"
KEY_SHOWN = "key_shown"


@dataclass(frozen=True)
class Facts:
    """One learner and one question at ``now`` (service time)."""

    now: datetime
    opens: datetime | None = None
    closes: datetime | None = None  # theirs: an extension replaces the quiz's close
    revealed: bool = False
    attempts: int = 1
    used: int = 0  # self-paced attempts used at this question
    shown: bool = False  # the key of this question was sent to them before
    live_running: bool = False  # a live round of the quiz has started and not ended
    live_pending: bool = False  # ... and this question has not closed in it yet


def window_state(opens: datetime | None, closes: datetime | None, now: datetime) -> WindowState:
    if opens is not None and now < opens:
        return "not_open"
    if closes is not None and now >= closes:
        return "closed"
    return "open"


def _self_paced_possible(facts: Facts) -> bool:
    """A self-paced answer could count now or later, without anyone changing a setting."""
    return (
        not facts.shown
        and not facts.revealed
        and facts.used < facts.attempts
        and (facts.closes is None or facts.now < facts.closes)
    )


def self_paced_refusal(facts: Facts) -> str | None:
    """Why a self-paced answer would not count now (an error code), or None if it counts."""
    state = window_state(facts.opens, facts.closes, facts.now)
    if state == "not_open":
        return NOT_OPEN
    if state == "closed":
        return CLOSED
    if facts.revealed:
        return REVEALED
    if facts.used >= facts.attempts:
        return NO_ATTEMPTS
    if facts.live_running:
        return LIVE_ROUND
    if facts.shown:
        return KEY_SHOWN
    return None


def live_refusal(shown: bool) -> str | None:
    """Why a live answer would not count beyond the round's own timing (the question open,
    before its deadline: ``live.accept_answer``), or None. ``shown``: the question's key
    was sent to them before."""
    return KEY_SHOWN if shown else None


def can_still_earn(facts: Facts) -> bool:
    """Whether an answer to this question may still count for them, in any mode."""
    return not facts.shown and (_self_paced_possible(facts) or facts.live_pending)


def self_paced_over(facts: Facts) -> bool:
    """No self-paced answer can count any more (the question's ``done``); a running live
    round only pauses self-paced answering, so it does not make a question done."""
    return not _self_paced_possible(facts)


def key_visible(facts: Facts) -> bool:
    """Whether the key may be sent to them now (rule 4)."""
    return not facts.live_pending and (facts.shown or not can_still_earn(facts))


def key_at_live_close(facts: Facts, played: bool) -> bool:
    """Whether a closed live question's key may go to them (rule 4): to the round's players
    once the round has closed it, otherwise as :func:`key_visible` says."""
    return (played and not facts.live_pending) or key_visible(facts)


def shown_score(score: float, correct: bool, visible: bool) -> float:
    """What one attempt's score may say to the learner (rule 6): a right answer scores its
    full points anyway, so only a wrong one's partial credit is held back."""
    return score if visible or correct else 0.0


def feedback_visible(question_type: str, visible: bool) -> bool:
    """Whether an attempt's feedback may be shown (rule 4, per-choice feedback).

    A multiple-choice attempt's feedback is a note for each wrongly ticked choice: it tells
    which choices are wrong, part of the key, so it waits for the key. A single choice's
    note is about the one choice picked (which "wrong" already says), a numeric question's
    hint says nothing of the answer, a text question's only note says that an answer could
    not be checked in time, and ordering questions have none.
    """
    return visible or question_type != "multiple"
