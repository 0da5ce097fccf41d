"""Peer scores into one score per criterion, and how far each reviewer agrees with the rest.

Pure functions over plain values (no database), so the rules are tested once with hypothesis
(``tests/unit/test_review_aggregate.py``) and the service only feeds them rows.

Three methods, chosen per round (docs/peer-review.md, "Aggregation"):

- ``median`` (the default): robust to one careless or hostile reviewer out of three;
- ``mean``: every review counts the same;
- ``pg1``: reliability-weighted, after Piech et al. (2013), "Tuned models of peer assessment
  in MOOCs", model PG1. Each peer score, normalised to 0..1 by the criterion's points, is
  ``z = s + b_r + e`` with ``s`` the true score of that criterion of that submission, ``b_r``
  reviewer r's bias and ``e ~ N(0, 1/tau_r)`` their noise. Priors: ``s ~ N(mu, 1/GAMMA)``
  (``mu`` the mean of all scores, a weak prior), ``b_r ~ N(0, 1/ETA)`` (bias shrunk to 0:
  with few reviews a reviewer's bias stays near 0), ``tau_r ~ Gamma`` with mean the pooled
  precision and the weight of ``KAPPA`` scores (with few reviews a reviewer's precision
  stays near everyone's). The values are found by coordinate ascent (each step sets one
  block -- true scores, then each reviewer's bias and precision -- to its exact conditional
  maximum a posteriori), each round followed by moving all biases so the median reviewer's is 0 and
  the true scores the other way (which changes no residual): a bias is relative to the
  typical reviewer, so one lenient reviewer among many shows as lenient rather than the
  rest as harsh. It is deterministic, so no seed is needed. A score is then the precision-
  weighted mean of the bias-corrected peer scores, clipped to 0..max_points.

Bias and precision are shared by all criteria of a round (on the normalised scale), since a
reviewer who is lenient on one criterion tends to be lenient on the next, and one criterion
alone rarely gives a reviewer enough scores to learn from.

Agreement (the figure each reviewer gets) is the same whatever the method:
``1 - mean(|score - median of the other reviewers' scores| / max_points)`` over every score
of theirs for which someone else scored the same criterion of the same submission; ``None``
when there is none. The reviewer is left out of the consensus they are compared with, so a
lone dissenter among two is not pulled halfway to agreeing with themselves.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

METHODS = ("median", "mean", "pg1")
DEFAULT_METHOD = "median"

# PG1 priors, on scores normalised to 0..1
GAMMA = 1.0  # prior precision of a true score around the mean of all scores (weak)
ETA = 400.0  # prior precision of a bias: sd 0.05, i.e. 5% of the points before any evidence
KAPPA = 4.0  # a reviewer's precision weighs like this many scores at the pooled value
MIN_VARIANCE = 1e-4  # a floor (sd 1% of the points), so exact agreement does not divide by 0
MAX_PRECISION = 1.0 / MIN_VARIANCE
ITERATIONS = 200
TOLERANCE = 1e-7  # of the points: far below any score anyone writes down

Item = tuple[str, str]  # (submission, criterion)


@dataclass(frozen=True)
class PeerScore:
    reviewer: str
    submission: str
    criterion: str
    score: float


@dataclass(frozen=True)
class ReviewerFit:
    """What the data say about one reviewer. ``bias`` and ``precision`` are on the 0..1
    scale (``pg1`` only; 0 and ``None`` otherwise); ``agreement`` as in the module doc."""

    reviewer: str
    scores: int
    agreement: float | None
    bias: float = 0.0
    precision: float | None = None


@dataclass
class Aggregate:
    """Scores per (submission, criterion): the aggregate, and the spread (max - min) in
    points; items nobody scored are absent."""

    method: str
    scores: dict[Item, float] = field(default_factory=dict)
    spread: dict[Item, float] = field(default_factory=dict)
    reviewers: dict[str, ReviewerFit] = field(default_factory=dict)


def aggregate(
    peer: Iterable[PeerScore], max_points: Mapping[str, float], method: str = DEFAULT_METHOD
) -> Aggregate:
    """Aggregate ``peer`` scores by ``method``; scores for criteria not in ``max_points`` are
    ignored (a criterion removed from the rubric)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    rows = [p for p in peer if p.criterion in max_points and max_points[p.criterion] > 0]
    by_item: dict[Item, list[PeerScore]] = defaultdict(list)
    for p in rows:
        by_item[(p.submission, p.criterion)].append(p)
    out = Aggregate(method)
    for item, scores in by_item.items():
        values = [p.score for p in scores]
        out.spread[item] = max(values) - min(values)
        if method == "median":
            out.scores[item] = statistics.median(values)
        elif method == "mean":
            out.scores[item] = math.fsum(values) / len(values)
    fits: dict[str, tuple[float, float]] = {}
    if method == "pg1" and rows:
        fitted, fits = pg1(rows, max_points)
        out.scores.update(fitted)
    counts: dict[str, int] = defaultdict(int)
    for p in rows:
        counts[p.reviewer] += 1
    agreed = agreement(rows, max_points)
    for reviewer in sorted(counts):
        bias, precision = fits.get(reviewer, (0.0, None))
        out.reviewers[reviewer] = ReviewerFit(
            reviewer, counts[reviewer], agreed.get(reviewer), bias, precision
        )
    return out


def agreement(peer: Iterable[PeerScore], max_points: Mapping[str, float]) -> dict[str, float]:
    """Each reviewer's agreement with the others (module doc); reviewers with nothing to
    compare are absent."""
    by_item: dict[Item, list[PeerScore]] = defaultdict(list)
    for p in peer:
        by_item[(p.submission, p.criterion)].append(p)
    gaps: dict[str, list[float]] = defaultdict(list)
    for (_sub, criterion), scores in by_item.items():
        for i, p in enumerate(scores):
            others = [q.score for j, q in enumerate(scores) if j != i]
            if others:
                gap = abs(p.score - statistics.median(others)) / max_points[criterion]
                gaps[p.reviewer].append(min(gap, 1.0))
    return {r: 1.0 - math.fsum(g) / len(g) for r, g in gaps.items()}


def pg1(
    peer: list[PeerScore], max_points: Mapping[str, float]
) -> tuple[dict[Item, float], dict[str, tuple[float, float]]]:
    """PG1 by coordinate ascent: ``(score per item in points, (bias, precision) per
    reviewer)`` (module doc for the model). Items and reviewers are numbered and each score
    is three parallel lists, so a class of a thousand takes well under a second."""
    items = sorted({(p.submission, p.criterion) for p in peer})
    reviewers = sorted({p.reviewer for p in peer})
    item_no = {item: i for i, item in enumerate(items)}
    reviewer_no = {r: i for i, r in enumerate(reviewers)}
    z = [p.score / max_points[p.criterion] for p in peer]
    of_item = [item_no[(p.submission, p.criterion)] for p in peer]
    of_reviewer = [reviewer_no[p.reviewer] for p in peer]
    by_item: list[list[int]] = [[] for _ in items]
    by_reviewer: list[list[int]] = [[] for _ in reviewers]
    for k in range(len(peer)):
        by_item[of_item[k]].append(k)
        by_reviewer[of_reviewer[k]].append(k)
    mu = math.fsum(z) / len(z)
    true = [math.fsum(z[k] for k in ks) / len(ks) for ks in by_item]
    pooled = _pooled_precision(z, of_item, by_item, true)
    # Gamma(alpha, beta) with mean `pooled` and the weight of KAPPA scores; its mode with n
    # residuals r_i is (alpha - 1 + n/2) / (beta + sum(r_i^2)/2)
    alpha, beta = 1.0 + KAPPA / 2.0, KAPPA / (2.0 * pooled)
    bias = [0.0] * len(reviewers)
    tau = [pooled] * len(reviewers)
    for _ in range(ITERATIONS):
        before = list(true)
        for i, ks in enumerate(by_item):
            weight, total = GAMMA, GAMMA * mu
            for k in ks:
                r = of_reviewer[k]
                weight += tau[r]
                total += tau[r] * (z[k] - bias[r])
            true[i] = total / weight
        for r, ks in enumerate(by_reviewer):
            gaps = [z[k] - true[of_item[k]] for k in ks]
            bias[r] = tau[r] * math.fsum(gaps) / (ETA + tau[r] * len(ks))
            squares = math.fsum((g - bias[r]) ** 2 for g in gaps)
            tau[r] = min((alpha - 1.0 + len(ks) / 2.0) / (beta + squares / 2.0), MAX_PRECISION)
        # z - s - b is unchanged by moving every bias by -m and every true score by +m;
        # anchor the biases on the median reviewer, so one lenient reviewer among many is
        # found lenient instead of everyone else being found harsh
        middle = statistics.median(bias)
        bias = [b - middle for b in bias]
        true = [t + middle for t in true]
        if max(abs(t - b) for t, b in zip(true, before, strict=True)) < TOLERANCE:
            break
    scores = {
        item: min(max(true[i], 0.0), 1.0) * max_points[item[1]] for i, item in enumerate(items)
    }
    return scores, {r: (bias[i], tau[i]) for i, r in enumerate(reviewers)}


def _pooled_precision(
    z: list[float], of_item: list[int], by_item: list[list[int]], centre: list[float]
) -> float:
    """1 / the variance of every score around its item's mean (items scored more than once),
    floored; the precision a reviewer is assumed to have before their own scores say more."""
    shared = [ks for ks in by_item if len(ks) > 1]
    if not shared:
        return 1.0 / 0.01  # nothing to learn from: sd 10% of the points
    squares = math.fsum((z[k] - centre[of_item[k]]) ** 2 for ks in shared for k in ks)
    n = sum(len(ks) for ks in shared)
    return min(1.0 / max(squares / max(n - len(shared), 1), MIN_VARIANCE), MAX_PRECISION)
