"""Peer review allocation: every rule checked by hypothesis against brute force.

No self-review, exactly k distinct reviewers, loads within ±1 (or provably the most even the
rules allow), cohort and team rules honoured whenever they can be, the same allocation for
the same seed whatever the input order, re-runs that keep what exists, expired leases and
extra reviews handed out by their rules, and an AllocationError with a reason whenever a
round is impossible.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass

import pytest
from cohortlab.reviews.allocation import (
    Allocation,
    AllocationError,
    Assignment,
    Constraints,
    Reviewer,
    Submission,
    allocate_reviewers,
    extend_allocation,
    extra_review,
    reallocate_expired,
)
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

NO_RULES = Constraints()
ALL_RULES = [
    Constraints(),
    Constraints(across_cohorts=True),
    Constraints(separate_teams=True),
    Constraints(across_cohorts=True, separate_teams=True),
]


@dataclass(frozen=True)
class Round:
    subs: tuple[Submission, ...]
    revs: tuple[Reviewer, ...]


@st.composite
def rounds(draw: st.DrawFn, min_people: int = 1, max_people: int = 14) -> Round:
    """People who submit, review or both (mostly both), some in cohorts and teams."""
    subs, revs = [], []
    for i in range(draw(st.integers(min_people, max_people))):
        cohort = draw(st.sampled_from(["a", "b", "c", None]))
        team = draw(st.sampled_from([f"{cohort}1", f"{cohort}2", "x", None]))
        role = draw(st.sampled_from(["both", "both", "both", "submits", "reviews"]))
        if role != "reviews":
            subs.append(Submission(f"s{i}", f"u{i}", cohort, team))
        if role != "submits":
            revs.append(Reviewer(f"u{i}", cohort, team))
    return Round(tuple(subs), tuple(revs))


seeds = st.one_of(st.integers(0, 2**64), st.text(max_size=8), st.binary(max_size=8))
ks = st.integers(1, 4)
rules = st.sampled_from(ALL_RULES)


def allowed(s: Submission, r: Reviewer, c: Constraints) -> bool:
    """The rules, written out pair by pair (the module counts by group)."""
    if r.user == s.author:
        return False
    if c.across_cohorts and None not in (s.cohort, r.cohort) and s.cohort == r.cohort:
        return False
    return not (c.separate_teams and None not in (s.team, r.team) and s.team == r.team)


def satisfiable(rnd: Round, k: int, c: Constraints, taken: Allocation | None = None) -> bool:
    held = taken.by_submission() if taken else {}
    return all(
        sum(allowed(s, r, c) and r.user not in held.get(s.id, ()) for r in rnd.revs)
        >= k - len(held.get(s.id, ()))
        for s in rnd.subs
    )


def loads(allocation: Allocation, rnd: Round) -> dict[str, int]:
    counted = allocation.loads()
    return {r.user: counted[r.user] for r in rnd.revs}


def assert_rules(allocation: Allocation, rnd: Round, k: int, c: Constraints) -> None:
    subs = {s.id: s for s in rnd.subs}
    revs = {r.user: r for r in rnd.revs}
    held = allocation.by_submission()
    for s in rnd.subs:
        assert len(held.get(s.id, ())) == k, f"{s.id} has {held.get(s.id)}"
    for a in allocation.assignments:
        assert a.submission in subs and a.reviewer in revs
        assert allowed(subs[a.submission], revs[a.reviewer], c), a


def brute_force(rnd: Round, k: int, c: Constraints, base: Counter[str] | None = None):
    """Every allocation of a tiny round (each submission choosing k allowed reviewers)."""
    choices = [
        [combo for combo in itertools.combinations([r for r in rnd.revs if allowed(s, r, c)], k)]
        for s in rnd.subs
    ]
    for pick in itertools.product(*choices):
        total = Counter(base or {})
        for combo in pick:
            total.update(r.user for r in combo)
        yield pick, total


# --- the rules --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(rounds(), ks, seeds)
def test_without_rules_every_possible_round_is_allocated_within_one(rnd, k, seed) -> None:
    if not rnd.subs:
        with pytest.raises(AllocationError) as err:
            allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed)
        assert err.value.code == "no_submissions"
        return
    if not satisfiable(rnd, k, NO_RULES):
        with pytest.raises(AllocationError) as err:
            allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed)
        assert err.value.code == "too_few_reviewers"
        assert f"needs {k} reviewers besides its author" in err.value.message
        return
    allocation = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed)
    assert_rules(allocation, rnd, k, NO_RULES)
    counted = loads(allocation, rnd).values()
    assert max(counted) - min(counted) <= 1


@settings(max_examples=400, deadline=None)
@given(rounds(), ks, seeds, rules)
def test_cohort_and_team_rules_are_honoured_whenever_they_can_be(rnd, k, seed, c) -> None:
    assume(rnd.subs)
    if not satisfiable(rnd, k, c):
        with pytest.raises(AllocationError) as err:
            allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c, balance="best")
        plain = satisfiable(rnd, k, NO_RULES)
        assert err.value.code == ("constraint_unsatisfiable" if plain else "too_few_reviewers")
        assert err.value.submissions
        if plain:
            assert err.value.message.startswith(("Reviewers from another", "Never the same team"))
        return
    best = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c, balance="best")
    assert_rules(best, rnd, k, c)
    try:
        strict = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c)
    except AllocationError as err:
        event("rules force loads apart")
        assert err.code == "unbalanced"
        counted = loads(best, rnd).values()
        assert max(counted) - min(counted) > 1
        assert f"between {min(counted)} and {max(counted)} reviews" in err.message
    else:
        assert strict == best
        counted = loads(strict, rnd).values()
        assert max(counted) - min(counted) <= 1


@settings(max_examples=150, deadline=None)
@given(rounds(max_people=5), st.integers(1, 2), seeds, rules)
def test_strict_refuses_only_when_no_balanced_allocation_exists(rnd, k, seed, c) -> None:
    assume(rnd.subs and len(rnd.subs) <= 4 and satisfiable(rnd, k, c))
    outcomes = [(max(t[r.user] for r in rnd.revs), min(t[r.user] for r in rnd.revs))
                for _, t in brute_force(rnd, k, c)]  # fmt: skip
    best_hi = min(hi for hi, _ in outcomes)
    best_lo = max(lo for hi, lo in outcomes if hi == best_hi)
    allocation = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c, balance="best")
    counted = loads(allocation, rnd).values()
    assert (max(counted), min(counted)) == (best_hi, best_lo)  # the most even there is
    balanced = any(hi - lo <= 1 for hi, lo in outcomes)
    try:
        allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c)
    except AllocationError as err:
        event("no balanced allocation")
        assert err.code == "unbalanced" and not balanced
    else:
        assert balanced


@settings(max_examples=150, deadline=None)
@given(rounds(min_people=2), ks, seeds, rules, st.randoms(use_true_random=False))
def test_the_same_seed_gives_the_same_allocation_whatever_the_input_order(
    rnd, k, seed, c, shuffler
) -> None:
    assume(rnd.subs and satisfiable(rnd, k, c))
    first = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c, balance="best")
    subs, revs = list(rnd.subs), list(rnd.revs)
    shuffler.shuffle(subs)
    shuffler.shuffle(revs)
    again = allocate_reviewers(subs, revs, k, seed=seed, constraints=c, balance="best")
    assert again == first


@pytest.mark.parametrize("c", ALL_RULES)
def test_different_seeds_give_different_allocations(c: Constraints) -> None:
    rnd = Round(
        tuple(Submission(f"s{i}", f"u{i}", "ab"[i % 2], f"t{i % 5}") for i in range(30)),
        tuple(Reviewer(f"u{i}", "ab"[i % 2], f"t{i % 5}") for i in range(30)),
    )
    seen = {allocate_reviewers(rnd.subs, rnd.revs, 3, seed=s, constraints=c) for s in range(6)}
    assert len(seen) == 6


def test_when_everyone_submits_and_reviews_each_reviews_exactly_k() -> None:
    people = [Reviewer(f"u{i}") for i in range(11)]
    subs = [Submission(f"s{i}", f"u{i}") for i in range(11)]
    allocation = allocate_reviewers(subs, people, 3, seed="round-1")
    assert set(allocation.loads().values()) == {3}


def test_ten_thousand_submissions_by_three_in_well_under_a_second() -> None:
    import time

    subs = [Submission(f"s{i}", f"u{i}", "abc"[i % 3]) for i in range(10_000)]
    revs = [Reviewer(f"u{i}", "abc"[i % 3]) for i in range(10_000)]
    for c in (NO_RULES, Constraints(across_cohorts=True)):
        started = time.perf_counter()
        allocation = allocate_reviewers(subs, revs, 3, seed="bench", constraints=c)
        assert time.perf_counter() - started < 2  # about 0.2 s; generous for slow CI
        assert set(allocation.loads().values()) == {3}


# --- impossible rounds say why ------------------------------------------------------------------


def test_no_submissions() -> None:
    with pytest.raises(AllocationError, match="no submissions to review") as err:
        allocate_reviewers([], [Reviewer("u1")], 2, seed=1)
    assert err.value.code == "no_submissions"


def test_k_larger_than_the_other_reviewers_says_how_many_are_possible() -> None:
    subs = [Submission(f"s{i}", f"u{i}") for i in range(3)]
    revs = [Reviewer(f"u{i}") for i in range(3)]
    with pytest.raises(AllocationError) as err:
        allocate_reviewers(subs, revs, 3, seed=1)
    assert err.value.code == "too_few_reviewers"
    assert "needs 3 reviewers besides its author, but there are only 2 other" in err.value.message
    assert "ask for at most 2 reviews per submission" in err.value.message
    assert err.value.submissions == ("s0", "s1", "s2")


def test_an_unmeetable_cohort_rule_names_the_rule_the_cohort_and_the_way_out() -> None:
    subs = [Submission(f"s{i}", f"u{i}", "ab"[i % 2]) for i in range(8)]
    revs = [Reviewer(f"u{i}", "ab"[i % 2]) for i in range(8)]
    rule = Constraints(across_cohorts=True)
    with pytest.raises(AllocationError) as err:
        allocate_reviewers(subs, revs, 5, seed=1, constraints=rule)
    assert err.value.code == "constraint_unsatisfiable"
    message = err.value.message
    assert message.startswith("Reviewers from another cohort only: only 4 reviewers")
    assert "(cohort 'a')" in message and "ask for at most 4" in message
    assert "allocate without this rule" in message


def test_with_both_rules_the_one_to_blame_is_named() -> None:
    # Teams span cohorts here, so the team rule alone is what runs out.
    subs = [Submission(f"s{i}", f"u{i}", f"c{i}", "t") for i in range(3)]
    revs = [Reviewer(f"u{i}", f"c{i}", "t") for i in range(3)] + [Reviewer("x", "c9", "t")]
    both = Constraints(across_cohorts=True, separate_teams=True)
    with pytest.raises(AllocationError, match=r"^Never the same team: .*team 't'"):
        allocate_reviewers(subs, revs, 1, seed=1, constraints=both)


def test_unbalanced_rules_name_the_range_and_the_crowded_group() -> None:
    subs = [Submission(f"s{i}", f"u{i}", "ab"[i % 2]) for i in range(7)]
    revs = [Reviewer(f"u{i}", "ab"[i % 2]) for i in range(7)]
    rule = Constraints(across_cohorts=True)
    with pytest.raises(AllocationError) as err:
        allocate_reviewers(subs, revs, 3, seed=1, constraints=rule)
    assert err.value.code == "unbalanced"
    assert "between 2 and 4 reviews" in err.value.message
    assert "the 4 submissions from cohort 'a' need 12 reviews from the 3" in err.value.message
    assert "Allow uneven loads" in err.value.message


@pytest.mark.parametrize(
    ("subs", "revs", "k", "code", "words"),
    [
        ([Submission("s1", "u1"), Submission("s1", "u2")], [], 1, "duplicate", "listed twice"),
        ([Submission("s1", "u1"), Submission("s2", "u1")], [], 1, "duplicate", "two submissions"),
        ([Submission("s1", "u1")], [Reviewer("u2"), Reviewer("u2")], 1, "duplicate", "twice"),
        ([Submission("s1", "u1", "a")], [Reviewer("u1", "b")], 1, "inconsistent", "as a reviewer"),
        ([Submission("s1", "u1")], [Reviewer("u2")], 0, "invalid", "1 or more"),
        ([Submission("", "u1")], [Reviewer("u2")], 1, "invalid", "needs an id"),
        ([Submission("s1", "u1")], [], 1, "too_few_reviewers", "add reviewers"),
    ],
)
def test_bad_input_is_refused_with_a_reason(subs, revs, k, code, words) -> None:
    with pytest.raises(AllocationError, match=words) as err:
        allocate_reviewers(subs, revs, k, seed=1)
    assert err.value.code == code


# --- late submissions -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(rounds(min_people=2), ks, seeds, rules, st.data())
def test_a_rerun_keeps_every_assignment_and_places_the_late_ones_by_the_rules(
    rnd, k, seed, c, data
) -> None:
    late = data.draw(st.sets(st.sampled_from([s.id for s in rnd.subs]))) if rnd.subs else set()
    late_authors = {s.author for s in rnd.subs if s.id in late}
    early = Round(
        tuple(s for s in rnd.subs if s.id not in late),
        tuple(r for r in rnd.revs if r.user not in late_authors),
    )
    assume(early.subs and satisfiable(early, k, c))
    first = allocate_reviewers(early.subs, early.revs, k, seed=seed, constraints=c, balance="best")
    if not satisfiable(rnd, k, c, first):
        with pytest.raises(AllocationError):
            extend_allocation(first, rnd.subs, rnd.revs, k, seed=seed, constraints=c)
        return
    after = extend_allocation(first, rnd.subs, rnd.revs, k, seed=seed, constraints=c)
    assert set(first.assignments) <= set(after.assignments)
    assert_rules(after, rnd, k, c)
    subs, revs = list(rnd.subs), list(rnd.revs)
    data.draw(st.randoms(use_true_random=False)).shuffle(subs)
    data.draw(st.randoms(use_true_random=False)).shuffle(revs)
    assert extend_allocation(first, subs, revs, k, seed=seed, constraints=c) == after
    again = extend_allocation(
        after, list(reversed(rnd.subs)), rnd.revs, k, seed=seed, constraints=c
    )
    assert again == after  # re-running changes nothing


@settings(max_examples=150, deadline=None)
@given(rounds(min_people=2, max_people=6), st.integers(1, 2), seeds, rules, st.data())
def test_a_rerun_gives_the_most_even_loads_without_moving_a_review(rnd, k, seed, c, data) -> None:
    assume(2 <= len(rnd.subs) <= 5)
    late = data.draw(st.sets(st.sampled_from([s.id for s in rnd.subs]), min_size=1, max_size=2))
    early = Round(tuple(s for s in rnd.subs if s.id not in late), rnd.revs)
    assume(early.subs and satisfiable(early, k, c) and satisfiable(rnd, k, c))
    first = allocate_reviewers(early.subs, early.revs, k, seed=seed, constraints=c, balance="best")
    base = first.loads()
    new = Round(tuple(s for s in rnd.subs if s.id in late), rnd.revs)
    outcomes = []
    for pick, total in brute_force(new, k, c, base):
        receiving = {r.user for combo in pick for r in combo}
        outcomes.append((max(total[u] for u in receiving), min(total[r.user] for r in rnd.revs)))
    best_hi = min(hi for hi, _ in outcomes)
    best_lo = max(lo for hi, lo in outcomes if hi == best_hi)
    after = extend_allocation(first, rnd.subs, rnd.revs, k, seed=seed, constraints=c)
    total = loads(after, rnd)
    receiving = {a.reviewer for a in set(after.assignments) - set(first.assignments)}
    assert (max(total[u] for u in receiving), min(total.values())) == (best_hi, best_lo)
    event("loads end more than one apart" if best_hi - best_lo > 1 else "within one")


def test_a_rerun_with_no_existing_allocation_is_a_first_allocation() -> None:
    subs = [Submission(f"s{i}", f"u{i}", "ab"[i % 2]) for i in range(7)]
    revs = [Reviewer(f"u{i}", "ab"[i % 2]) for i in range(7)]
    rule = Constraints(across_cohorts=True)
    fresh = allocate_reviewers(subs, revs, 2, seed=3, constraints=rule, balance="best")
    assert extend_allocation(Allocation(), subs, revs, 2, seed=3, constraints=rule) == fresh


def test_a_larger_k_tops_every_submission_up() -> None:
    subs = [Submission(f"s{i}", f"u{i}") for i in range(6)]
    revs = [Reviewer(f"u{i}") for i in range(6)]
    two = allocate_reviewers(subs, revs, 2, seed=5)
    three = extend_allocation(two, subs, revs, 3, seed=5)
    assert set(two.assignments) <= set(three.assignments)
    assert {len(v) for v in three.by_submission().values()} == {3}
    assert set(three.loads().values()) == {3}


def test_a_rerun_refuses_assignments_for_unknown_submissions_and_self_reviews() -> None:
    subs = [Submission("s1", "u1"), Submission("s2", "u2")]
    revs = [Reviewer("u1"), Reviewer("u2")]
    with pytest.raises(AllocationError) as err:
        extend_allocation(Allocation((Assignment("gone", "u1"),)), subs, revs, 1, seed=1)
    assert err.value.code == "unknown_submission"
    with pytest.raises(AllocationError) as err:
        extend_allocation(Allocation((Assignment("s1", "u1"),)), subs, revs, 1, seed=1)
    assert err.value.code == "self_review"


# --- expired leases ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(rounds(min_people=3), ks, seeds, rules, st.data())
def test_an_expired_review_goes_to_the_lightest_other_eligible_reviewer(
    rnd, k, seed, c, data
) -> None:
    assume(rnd.subs and satisfiable(rnd, k, c))
    allocation = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c, balance="best")
    lapsed = data.draw(st.sampled_from(allocation.assignments))
    sub = next(s for s in rnd.subs if s.id == lapsed.submission)
    holders = set(allocation.by_submission()[sub.id])
    remaining = Counter(a.reviewer for a in allocation.assignments if a != lapsed)
    candidates = [r for r in rnd.revs if allowed(sub, r, c) and r.user not in holders]
    event(f"{len(candidates)} candidates" if len(candidates) < 2 else "candidates")
    if not candidates:
        with pytest.raises(AllocationError) as err:
            reallocate_expired(allocation, [lapsed], rnd.subs, rnd.revs, seed=seed, constraints=c)
        assert err.value.code == "no_replacement" and err.value.submissions == (sub.id,)
        return
    after = reallocate_expired(allocation, [lapsed], rnd.subs, rnd.revs, seed=seed, constraints=c)
    (added,) = set(after.assignments) - set(allocation.assignments)
    assert set(allocation.assignments) - set(after.assignments) == {lapsed}
    assert added.submission == sub.id and added.reviewer not in holders
    assert remaining[added.reviewer] == min(remaining[r.user] for r in candidates)
    assert_rules(after, rnd, k, c)


@settings(max_examples=200, deadline=None)
@given(rounds(min_people=4), ks, seeds, rules, st.data())
def test_many_expired_reviews_move_together_and_never_back(rnd, k, seed, c, data) -> None:
    assume(rnd.subs and satisfiable(rnd, k, c))
    allocation = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c, balance="best")
    lapsed = data.draw(st.sets(st.sampled_from(allocation.assignments), min_size=1))
    past = data.draw(st.sets(st.builds(Assignment, st.sampled_from([s.id for s in rnd.subs]),
                                       st.sampled_from([r.user for r in rnd.revs]))))  # fmt: skip
    try:
        after = reallocate_expired(
            allocation, lapsed, rnd.subs, rnd.revs, seed=seed, constraints=c, past=past
        )
    except AllocationError as err:
        assert err.code == "no_replacement" and err.submissions
        return
    assert_rules(after, rnd, k, c)
    assert not (set(after.assignments) & (lapsed | (past - set(allocation.assignments))))
    shuffled = list(lapsed)
    random.Random(0).shuffle(shuffled)
    assert after == reallocate_expired(
        allocation, shuffled, rnd.subs, rnd.revs, seed=seed, constraints=c, past=past
    )


def test_reallocating_an_assignment_that_does_not_exist_is_refused() -> None:
    subs = [Submission(f"s{i}", f"u{i}") for i in range(3)]
    revs = [Reviewer(f"u{i}") for i in range(3)]
    allocation = allocate_reviewers(subs, revs, 1, seed=1)
    with pytest.raises(AllocationError) as err:
        reallocate_expired(allocation, [Assignment("s0", "u0")], subs, revs, seed=1)
    assert err.value.code == "unknown_assignment"


def test_when_nobody_else_may_take_it_the_message_says_what_to_do() -> None:
    subs = [Submission(f"s{i}", f"u{i}") for i in range(3)]
    revs = [Reviewer(f"u{i}") for i in range(3)]
    allocation = allocate_reviewers(subs, revs, 2, seed=1)
    with pytest.raises(AllocationError, match="Nobody else may review submission 's1'") as err:
        reallocate_expired(allocation, [Assignment("s1", "u0")], subs, revs, seed=1)
    assert "Add reviewers, extend the lease, or review it as staff" in err.value.message


# --- extra reviews ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(rounds(min_people=2), ks, seeds, rules, st.data())
def test_an_extra_review_is_the_thinnest_submission_the_reviewer_may_take(
    rnd, k, seed, c, data
) -> None:
    assume(rnd.subs and rnd.revs and satisfiable(rnd, k, c))
    allocation = allocate_reviewers(rnd.subs, rnd.revs, k, seed=seed, constraints=c, balance="best")
    reviewer = data.draw(st.sampled_from(rnd.revs))
    completed = data.draw(st.fixed_dictionaries({s.id: st.integers(0, k) for s in rnd.subs}))
    mine = {a.submission for a in allocation.assignments if a.reviewer == reviewer.user}
    options = [s for s in rnd.subs if allowed(s, reviewer, c) and s.id not in mine]
    if not options:
        with pytest.raises(AllocationError) as err:
            extra_review(reviewer, allocation, rnd.subs, completed=completed, seed=seed,
                         constraints=c)  # fmt: skip
        assert err.value.code == "no_extra_review"
        return
    extra = extra_review(
        reviewer, allocation, rnd.subs, completed=completed, seed=seed, constraints=c
    )
    assert extra.reviewer == reviewer.user and extra.submission in {s.id for s in options}
    assert completed[extra.submission] == min(completed[s.id] for s in options)


def test_extra_reviews_skip_what_the_reviewer_had_before() -> None:
    subs = [Submission(f"s{i}", f"u{i}") for i in range(4)]
    me = Reviewer("u0")
    done = {"s1": 2, "s2": 0, "s3": 0}
    past = [Assignment("s2", "u0")]  # a lease they let lapse
    extra = extra_review(me, Allocation(), subs, completed=done, seed=1, past=past)
    assert extra == Assignment("s3", "u0")
