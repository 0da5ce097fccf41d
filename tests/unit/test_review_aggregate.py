"""Aggregating peer scores: median, mean and PG1 (reliability-weighted), and agreement.

Properties with hypothesis: an aggregate stays within the scores it came from, does not
depend on their order, and PG1 finds a reviewer who adds a constant, shrinking the bias of
a reviewer with few scores toward zero."""

from __future__ import annotations

import random
import statistics

import pytest
from cohortlab.reviews.aggregate import (
    METHODS,
    PeerScore,
    aggregate,
    agreement,
)
from hypothesis import given, settings
from hypothesis import strategies as st

POINTS = {"essay": 4.0, "clarity": 2.0}

score_lists = st.lists(
    st.floats(min_value=0, max_value=4, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=9,
)


def one_item(values: list[float]) -> list[PeerScore]:
    return [PeerScore(f"r{i}", "1", "essay", v) for i, v in enumerate(values)]


@given(score_lists, st.sampled_from(METHODS))
def test_an_aggregate_lies_within_the_scores_it_came_from(values: list[float], method: str) -> None:
    result = aggregate(one_item(values), POINTS, method)
    score = result.scores[("1", "essay")]
    assert min(values) - 1e-9 <= score <= max(values) + 1e-9
    assert result.spread[("1", "essay")] == pytest.approx(max(values) - min(values))


@given(score_lists)
def test_median_and_mean_are_the_usual_ones(values: list[float]) -> None:
    assert aggregate(one_item(values), POINTS, "median").scores[("1", "essay")] == (
        statistics.median(values)
    )
    mean = aggregate(one_item(values), POINTS, "mean").scores[("1", "essay")]
    assert mean == pytest.approx(statistics.fmean(values))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),  # reviewer
            st.integers(0, 4),  # submission
            st.sampled_from(sorted(POINTS)),
            st.floats(0, 1, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
        unique_by=lambda t: (t[0], t[1], t[2]),
    ),
    st.sampled_from(METHODS),
    st.randoms(use_true_random=False),
)
def test_order_of_the_scores_changes_nothing(
    rows: list[tuple[int, int, str, float]], method: str, rnd: random.Random
) -> None:
    peer = [PeerScore(f"r{r}", str(s), c, x * POINTS[c]) for r, s, c, x in rows]
    shuffled = list(peer)
    rnd.shuffle(shuffled)
    a, b = aggregate(peer, POINTS, method), aggregate(shuffled, POINTS, method)
    assert a.scores.keys() == b.scores.keys()
    for item, score in a.scores.items():
        assert b.scores[item] == pytest.approx(score, abs=1e-6)
        assert 0 <= score <= POINTS[item[1]]
    for name, fit in a.reviewers.items():
        other = b.reviewers[name]
        assert fit.scores == other.scores
        assert (fit.agreement is None) == (other.agreement is None)
        if fit.agreement is not None:
            assert other.agreement == pytest.approx(fit.agreement)
            assert 0 <= fit.agreement <= 1


def circulant(n_subs: int, reviewers: list[str], k: int) -> list[tuple[str, str]]:
    """Each submission reviewed by the next k reviewers on the cycle (balanced loads)."""
    return [(reviewers[(s + j) % len(reviewers)], str(s)) for s in range(n_subs) for j in range(k)]


def test_pg1_recovers_a_constant_offset_and_corrects_for_it() -> None:
    rng = random.Random(7)
    reviewers = [f"r{i}" for i in range(6)]
    truth = {str(s): rng.uniform(0.5, 2.8) for s in range(30)}
    peer = []
    for reviewer, sub in circulant(30, reviewers, 3):
        noise = rng.gauss(0, 0.05)
        offset = 1.0 if reviewer == "r0" else 0.0  # r0 gives a point more than deserved
        peer.append(PeerScore(reviewer, sub, "essay", min(truth[sub] + offset + noise, 4.0)))
    fitted = aggregate(peer, POINTS, "pg1")
    assert fitted.reviewers["r0"].bias * 4 == pytest.approx(1.0, abs=0.1)
    assert all(abs(fitted.reviewers[r].bias) * 4 < 0.1 for r in reviewers[1:])
    mean = aggregate(peer, POINTS, "mean")

    def error(result: object) -> float:
        return statistics.fmean(abs(result.scores[(s, "essay")] - t) for s, t in truth.items())

    assert error(fitted) < 0.06 < error(mean)


def test_pg1_shrinks_the_bias_of_a_reviewer_with_few_scores() -> None:
    """The same +1 point from someone with one review is mostly not believed; the consensus
    of the others stays close to the truth."""
    rng = random.Random(3)
    reviewers = [f"r{i}" for i in range(5)]
    truth = {str(s): rng.uniform(1, 3) for s in range(20)}
    peer = [
        PeerScore(r, s, "essay", truth[s] + rng.gauss(0, 0.1))
        for r, s in circulant(20, reviewers, 2)
    ]
    peer.append(PeerScore("late", "0", "essay", truth["0"] + 1.0))
    fitted = aggregate(peer, POINTS, "pg1")
    late = fitted.reviewers["late"]
    assert late.scores == 1 and 0 < late.bias * 4 < 0.5  # raw deviation ~1 point, kept < 0.5
    # ...and the precision of a reviewer with one score stays near the pooled value
    others = [fitted.reviewers[r].precision for r in reviewers]
    assert late.precision is not None and late.precision <= max(others)


def test_pg1_weights_a_noisy_reviewer_less() -> None:
    rng = random.Random(11)
    reviewers = [f"r{i}" for i in range(6)]
    truth = {str(s): rng.uniform(0.5, 3.5) for s in range(30)}
    peer = []
    for r, s in circulant(30, reviewers, 3):
        sd = 1.2 if r == "r5" else 0.05
        peer.append(PeerScore(r, s, "essay", min(max(truth[s] + rng.gauss(0, sd), 0), 4)))
    fitted = aggregate(peer, POINTS, "pg1")
    noisy = fitted.reviewers["r5"].precision
    assert noisy is not None
    assert all(noisy < fitted.reviewers[r].precision / 10 for r in reviewers[:5])
    assert fitted.reviewers["r5"].agreement < min(
        fitted.reviewers[r].agreement for r in reviewers[:5]
    )


def test_agreement_compares_each_reviewer_with_the_others_only() -> None:
    peer = [
        PeerScore("a", "1", "essay", 4),
        PeerScore("b", "1", "essay", 4),
        PeerScore("c", "1", "essay", 0),
        PeerScore("a", "2", "clarity", 1),  # alone on this item: nothing to compare
    ]
    agreed = agreement(peer, POINTS)
    # a: the others are 4 and 0, median 2 -> 1 - 2/4; c: the others are 4, 4 -> 1 - 4/4
    assert agreed == {"a": 0.5, "b": 0.5, "c": 0.0}
    result = aggregate(peer, POINTS)
    assert result.reviewers["a"].scores == 2 and result.scores[("2", "clarity")] == 1


def test_scores_for_criteria_no_longer_in_the_rubric_are_ignored() -> None:
    result = aggregate([PeerScore("a", "1", "gone", 3)], POINTS, "pg1")
    assert result.scores == {} and result.reviewers == {}
    with pytest.raises(ValueError):
        aggregate([], POINTS, "mode")
