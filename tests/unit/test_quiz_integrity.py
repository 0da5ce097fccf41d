"""Property test of the quiz integrity rule (``cohortlab.quizzes.policy``), through the
service's own functions on a real database: random sequences of what an instructor and
two learners do with one quiz (one question of every type, partial credit on two), checked
after every step against a model of the world kept by the test.

Events: time passing; the instructor moving the open or close time, granting, changing or
removing a learner's extension, revealing or hiding the answers, changing the attempts,
starting a live round, opening and closing its questions (or the countdown running out),
ending it; a learner answering self-paced or live (right, wrong, or partly right), joining
a round, and reading the quiz, the round, the quiz list and the leaderboard.

Invariants, for a learner L, a question q and the service's time of each step:

K1  No key while it can still count. Whenever anything sent to L (a response or a live
    event) carries q's key (its correct answer, its explanation, or, for multiple choice,
    a choice's feedback, which says that choice is wrong), then at that moment (a) no
    running live round has q pending (still to come or open), and (b) no self-paced answer
    of L's to q can count now or later without the instructor changing something: the quiz
    is revealed, or L's close (their extension, else the quiz's) has passed, or L has no
    attempt left, or L had been shown q's key before -- or L played the round that closed
    q (as in Kahoot, its players see a closed question's key; then K2 ends L's chance at q).
K2  No answer counts after the key. Once L has been sent q's key, no answer of L's to q is
    accepted again in either mode, whatever the instructor changes afterwards (an
    extension, a later close, more attempts, hiding the answers, a new round).
A1  A self-paced answer is accepted (recorded, scored) exactly when the quiz has opened, L's
    close has not passed, the quiz is not revealed, L has an attempt left at q, no live
    round of the quiz is running, and K2 allows it. So none counts after reveal or after
    L's (extended) close, and none is taken during a live round.
A2  A live answer is accepted exactly when q is the round's open question, before its
    deadline, L joined the round and has not answered q in it, and K2 allows it.
P   No partial credit before the key. Every score shown to L (an attempt's result, a
    question's state, L's total in the quiz, in the quiz list and on the leaderboard)
    counts a wrong attempt at q as 0 unless K1's condition holds for L and q at that
    moment, and then as its partial credit; totals are the sum over the questions.
V   The key does come. The quiz as L reads it, the result of L's answer to q, the round's
    results as L reads them and the live event a player gets when q closes carry q's key
    exactly when K1's condition holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cohortlab.quizzes import live_records, records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from .quiz_world import (
    COURSE,
    FRACTIONS,
    LEARNERS,
    QIDS,
    QuizWorld,
    keys_in,
    quiz_world,
)


@dataclass
class Round:
    sid: int
    running: bool = True
    phase: str = "lobby"  # lobby, open, closed
    current: str | None = None
    deadline: datetime | None = None
    closed: set[str] = field(default_factory=set)
    joined: set[str] = field(default_factory=set)
    answered: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Model:
    """What the rule says, from the test's own record of what happened."""

    now: datetime
    opens: datetime | None = None
    closes: datetime | None = None
    revealed: bool = False
    attempts: int = 2
    extensions: dict[str, datetime] = field(default_factory=dict)
    tries: dict[tuple[str, str], list[tuple[float, bool]]] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)
    round: Round | None = None  # the latest round, running or ended

    def close_of(self, learner: str) -> datetime | None:
        return self.extensions.get(learner) or self.closes

    def used(self, learner: str, q: str) -> int:
        return len(self.tries.get((learner, q), []))

    def running(self) -> bool:
        return self.round is not None and self.round.running

    def pending(self, q: str) -> bool:
        return self.running() and q not in self.round.closed  # type: ignore[union-attr]

    def self_paced_possible(self, learner: str, q: str) -> bool:
        close = self.close_of(learner)
        return (
            not self.revealed
            and self.used(learner, q) < self.attempts
            and (close is None or self.now < close)
            and (learner, q) not in self.seen
        )

    def key_may_show(self, learner: str, q: str, played: bool = False) -> bool:
        """K1's condition (``played``: L is a player of the round, which has closed q)."""
        return not self.pending(q) and (
            played or (learner, q) in self.seen or not self.self_paced_possible(learner, q)
        )

    def self_paced_counts(self, learner: str, q: str) -> bool:
        """A1's condition."""
        close = self.close_of(learner)
        return (
            (self.opens is None or self.now >= self.opens)
            and (close is None or self.now < close)
            and not self.revealed
            and self.used(learner, q) < self.attempts
            and not self.running()
            and (learner, q) not in self.seen
        )

    def live_counts(self, learner: str, q: str) -> bool:
        """A2's condition."""
        r = self.round
        return (
            r is not None
            and r.running
            and r.phase == "open"
            and r.current == q
            and learner in r.joined
            and (learner, q) not in r.answered
            and (learner, q) not in self.seen
        )

    def score(self, learner: str, q: str) -> float | None:
        """P: the score of q that L may see now."""
        tries = self.tries.get((learner, q))
        if not tries:
            return None
        visible = self.key_may_show(learner, q)
        return max(f if visible or right else 0.0 for f, right in tries)

    def total(self, learner: str) -> float:
        return round(sum(self.score(learner, q) or 0.0 for q in QIDS), 6)


def close_enough(a: float | None, b: float | None) -> bool:
    return a == b if a is None or b is None else abs(a - b) < 1e-6


class Checker:
    """Applies one event to the service and to the model, and checks what came back."""

    def __init__(self, world: QuizWorld) -> None:
        self.world = world
        self.model = Model(world.now)
        world.publish(attempts=2)

    def sent(
        self, learner: str, output: Any, question: str | None = None, played: bool = False
    ) -> set[str]:
        """K1 for one output to ``learner``; then K2 remembers what they have seen."""
        keys = keys_in(output, question)
        for q in keys:
            assert self.model.key_may_show(learner, q, played), f"K1: {learner} sent {q}'s key"
        self.model.seen |= {(learner, q) for q in keys}
        return keys

    # --- time and the instructor ---

    def tick(self, seconds: int) -> None:
        self.world.tick(seconds)
        self.model.now = self.world.now
        r = self.model.round
        if r and r.running and r.phase == "open" and self.model.now >= r.deadline:
            r.phase = "closed"
            r.closed.add(r.current)  # type: ignore[arg-type]
            # the service's timer fires at the deadline
            announced = self.world.ok(live_records.settle_row, COURSE, r.sid, self.model.now)
            self.announced(announced)

    def setting(self, name: str, value: Any) -> None:
        body = {name: value.isoformat() if isinstance(value, datetime) else value}
        _out, refused = self.world.settings(**body)
        if refused is None:
            key = {"opens_at": "opens", "closes_at": "closes"}.get(name, name)
            setattr(self.model, key, value)

    def reopen(self) -> None:
        """The instructor undoes every close at once: hides the answers, removes the close
        and every extension, and gives an attempt more (K2's test)."""
        self.setting("revealed", False)
        self.setting("closes_at", None)
        for name in list(self.model.extensions):
            self.extend(name, None)
        self.setting("attempts", self.model.attempts + 1)

    def extend(self, learner: str, minutes: int | None) -> None:
        if minutes is None:
            teacher = self.world.people["teacher"]
            _out, refused = self.world.call(records.remove_extension, teacher, "probe", learner)
            assert (refused is None) == (learner in self.model.extensions)
            self.model.extensions.pop(learner, None)
            return
        closes = self.model.now + timedelta(minutes=minutes)
        self.world.extend(learner, closes)
        self.model.extensions[learner] = closes

    def live_step(self, action: str, countdown: int) -> None:
        r = self.model.round
        if action == "start":
            if self.model.running():
                return
            self.model.round = Round(self.world.start_round())
            return
        if r is None or not r.running:
            return
        body = {"countdown": countdown} if action == "next" else {}
        result, refused = self.world.step(r.sid, action, **body)
        if refused is not None:
            return
        view, announcement = result
        if action == "next":
            r.phase, r.current = "open", view["question"]["id"]
            r.deadline = self.model.now + timedelta(seconds=countdown)
        elif action == "close" or (action == "end" and r.phase == "open"):
            r.phase = "closed"
            r.closed.add(r.current)  # type: ignore[arg-type]
        if action == "end":
            r.running = False
        self.announced(announcement)

    def announced(self, announcement: live_records.Announcement | None) -> None:
        """K1 and V for each learner the live event reaches."""
        if announcement is None:
            return
        r = self.model.round
        assert r is not None
        assert set(announcement.keyed_players) <= set(announcement.players)
        reached = LEARNERS if announcement.action == "ended" else announcement.players
        for learner in reached:
            keyed = learner in announcement.keyed_players
            event = announcement.keyed_event if keyed else announcement.learner_event
            results = event.get("results")
            played = learner in announcement.players
            if results is not None and played:
                q = results["question"]
                assert keyed == self.model.key_may_show(learner, q, played), f"V: to {learner}"
            self.sent(learner, event, played=played)

    # --- a learner ---

    def answer(self, learner: str, q: str, kind: str) -> None:
        if q == "live":  # the question the latest round showed last, the adversary's pick
            r = self.model.round
            q = r.current if r is not None and r.current is not None else QIDS[0]
        expected = self.model.self_paced_counts(learner, q)
        out, refused = self.world.answer(learner, q, kind)
        assert (refused is None) == expected, f"A1: {learner} {q} {refused and refused.code}"
        if refused is not None:
            assert refused.status_code == 409
            return
        fraction = FRACTIONS[q][kind]
        self.model.tries.setdefault((learner, q), []).append((fraction, fraction == 1.0))
        visible = self.model.key_may_show(learner, q)
        keys = self.sent(learner, out, q)
        assert (q in keys) == visible, f"V: {learner}'s result at {q}"
        shown = fraction if visible or fraction == 1.0 else 0.0
        assert close_enough(out["result"]["score"], shown), ("P", out["result"])
        assert close_enough(out["question"]["score"], self.model.score(learner, q)), "P"
        assert close_enough(out["score"], self.model.total(learner)), "P: total"

    def live_answer(self, learner: str, kind: str, other: bool) -> None:
        r = self.model.round
        if r is None or r.current is None:
            return
        q = r.current if not other else next(x for x in QIDS if x != r.current)
        expected = self.model.live_counts(learner, q)
        out, refused = self.world.live_answer(learner, r.sid, q, kind)
        assert (refused is None) == expected, f"A2: {learner} {q} {refused and refused.code}"
        if refused is None:
            r.answered.add((learner, q))
            assert keys_in(out) == set()

    def play(self, learner: str, kind: str) -> None:
        """A learner plays the round: started, joined and the next question shown first if
        need be (each step checked as usual); more live answers than chance would give."""
        if not self.model.running():
            self.live_step("start", 30)
        r = self.model.round
        assert r is not None
        if learner not in r.joined:
            self.join(learner)
        if r.phase != "open":
            self.live_step("next", 30)
        self.live_answer(learner, kind, other=False)

    def join(self, learner: str) -> None:
        r = self.model.round
        if r is None:
            return
        view, refused = self.world.join(learner, r.sid)
        assert (refused is None) == r.running
        if refused is None:
            r.joined.add(learner)
            self.round_view(learner, view)

    def view(self, learner: str) -> None:
        view = self.world.view(learner)
        keys = self.sent(learner, view)
        for q in QIDS:
            state = view["state"][q]
            assert (q in keys) == ("correct_answer" in state), q
            assert (q in keys) == self.model.key_may_show(learner, q), f"V: {learner}'s {q}"
            assert close_enough(state["score"], self.model.score(learner, q)), ("P", q, state)
            assert state["done"] == (not self.model.self_paced_possible(learner, q)), q
        assert close_enough(view["score"], self.model.total(learner)), "P: total"

    def live_view(self, learner: str) -> None:
        r = self.model.round
        if r is not None:
            self.round_view(learner, self.world.live_view(learner, r.sid))

    def round_view(self, learner: str, view: dict[str, Any]) -> None:
        r = self.model.round
        assert r is not None
        results = view.get("results")
        assert (results is not None) == (r.phase == "closed"), (r, view["session"]["phase"])
        played = learner in r.joined
        keys = self.sent(learner, view, played=played)
        if results is not None:
            visible = self.model.key_may_show(learner, results["question"], played)
            assert keys == ({results["question"]} if visible else set()), f"V: {learner}"

    def totals(self, learner: str) -> None:
        assert close_enough(self.world.summary(learner)["score"], self.model.total(learner))
        me = self.world.board(learner)["me"]
        if any(self.model.tries.get((learner, q)) for q in QIDS):
            assert close_enough(me["score"], self.model.total(learner)), ("P: board", me)
        else:
            assert me is None


learner = st.sampled_from(LEARNERS)
kind = st.sampled_from(["right", "wrong", "partial"])
EVENTS = st.one_of(
    st.tuples(st.just("tick"), st.sampled_from([1, 5, 20, 40, 600, 3600])),
    st.tuples(st.just("opens_at"), st.sampled_from([-2, -1, 1])),
    st.tuples(st.just("closes_at"), st.sampled_from([None, 0, 1, 2])),
    st.tuples(st.just("extend"), learner, st.sampled_from([None, -30, 5, 90])),
    st.tuples(st.just("revealed"), st.booleans()),
    st.tuples(st.just("attempts"), st.integers(1, 3)),
    st.tuples(st.just("reopen")),
    st.tuples(st.just("live"), st.sampled_from(["start", "next", "close", "end"]), st.just(30)),
    st.tuples(st.just("live"), st.just("next"), st.just(5)),
    st.tuples(st.just("join"), learner),
    st.tuples(
        st.just("answer"),
        learner,
        st.sampled_from([*QIDS, "live", "live"]),
        kind,
    ),
    st.tuples(st.just("answer"), learner, st.sampled_from(["many", "order"]), st.just("partial")),
    st.tuples(st.just("live_answer"), learner, kind, st.booleans()),
    st.tuples(st.just("play"), learner, kind),
    st.tuples(st.just("view"), learner),
    st.tuples(st.just("live_view"), learner),
    st.tuples(st.just("totals"), learner),
)


def apply(checker: Checker, event: tuple[Any, ...]) -> None:
    kind, *args = event
    now = checker.model.now
    if kind == "tick":
        checker.tick(args[0])
    elif kind == "opens_at":
        checker.setting("opens_at", now + timedelta(hours=args[0]))
    elif kind == "closes_at":
        hours = args[0]
        checker.setting("closes_at", None if hours is None else now + timedelta(hours=hours))
    elif kind == "extend":
        checker.extend(*args)
    elif kind == "reopen":
        checker.reopen()
    elif kind in ("revealed", "attempts"):
        checker.setting(kind, args[0])
    elif kind == "live":
        checker.live_step(*args)
    elif kind == "join":
        checker.join(*args)
    elif kind == "answer":
        checker.answer(*args)
    elif kind == "live_answer":
        checker.live_answer(*args)
    elif kind == "play":
        checker.play(*args)
    elif kind == "view":
        checker.view(*args)
    elif kind == "live_view":
        checker.live_view(*args)
    else:
        checker.totals(*args)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(EVENTS, min_size=1, max_size=40))
def test_no_key_while_an_answer_can_count_and_no_answer_after_the_key(
    cl_quiz_engine: Engine, events: list[tuple[Any, ...]]
) -> None:
    with quiz_world(cl_quiz_engine, datetime.now(UTC)) as world:
        checker = Checker(world)
        for event in events:
            apply(checker, event)
        for name in LEARNERS:  # the end of every sequence: what each learner can read
            checker.view(name)
            checker.live_view(name)
            checker.totals(name)
