"""Who reviews whom in a peer review round: pure, deterministic, provably balanced.

The rules every function here keeps (``tests/unit/test_review_allocation.py`` checks each):

1. nobody reviews their own submission;
2. each submission gets exactly ``k`` distinct reviewers;
3. reviewer loads differ by at most one; under cohort or team rules that make this impossible,
   ``balance="strict"`` refuses and ``balance="best"`` gives the most even loads there are;
4. optional rules: ``across_cohorts`` (reviewer from another cohort than the author) and
   ``separate_teams`` (never someone from the author's team); a person without a cohort (team)
   is in none, so the rule never excludes them (a TA reviewing alongside learners);
5. the same inputs and seed give the same allocation, whatever order the inputs come in: every
   order is derived from HMAC-SHA256(seed, id), never from the input order or Python's hash.

The seed should be a per-round secret the service keeps (``secrets.token_hex(16)``): the
algorithm is public, so with a known seed and the class list anyone could recompute the
allocation and learn whose work they were given.

Why these algorithms (no randomised retries: each construction either succeeds or the round
is impossible, which is what lets the errors say why):

- **No rule beyond "not one's own": a circulant.** Reviewers sit on a cycle in seeded order;
  gap ``j`` after reviewer ``j`` holds ``g_j = floor((j+1)n/m) - floor(jn/m)`` submissions
  (Bresenham spacing, sizes differ by at most one), each author's own submission in their own
  gap. A submission in gap ``j`` goes to reviewers ``j+1 .. j+k``: distinct when ``k <= m``,
  never its author when ``k <= m-1``. Reviewer ``j`` reviews gaps ``j-k .. j-1``, which hold
  ``floor(jn/m) - floor((j-k)n/m)`` submissions, and since ``floor(x+y) - floor(x)`` is
  ``floor(y)`` or ``ceil(y)``, every load is ``floor(kn/m)`` or ``ceil(kn/m)``: within ±1.
  O(nk) time: 10,000 submissions x 3 in about 0.2 s, mostly the HMAC orders.
- **Cohort/team rules, late submissions: a bipartite b-matching by max-flow.** Source ->
  submission (capacity: reviews still needed) -> eligible reviewer (capacity 1: distinct) ->
  sink, where each reviewer's load must lie in ``[lo, hi]``. Lower bounds come from a detour:
  reviewer -> sink with capacity ``lo``, reviewer -> X with ``hi - lo``, X -> sink with
  ``D - sum(lo)``; a flow of the whole demand ``D`` must then fill every ``lo`` edge. Max-flow
  is integral, so a flow of ``D`` exists exactly when an allocation does. To keep the graph
  small, interchangeable people are merged into classes (same groups and current load;
  someone who must be told apart, such as an author the rules alone would not keep off their
  own work, is a class of one), the flow runs on classes (Dinic), and each class's flow is
  dealt back round-robin: a submission class deals its reviews over its members, so each gets
  exactly its demand and at most ``ceil(f/|class|) <= |reviewer class|`` from one reviewer
  class; a reviewer class deals each submission a run of consecutive members, so the run is
  distinct and every member's load is the class average rounded down or up, inside
  ``[lo, hi]``. The most even window is found by binary search (feasibility is monotone in
  ``hi`` and in ``lo``), so "best" means: the largest load as small as possible, then the
  smallest as large as possible. The graph has one node per class, so three cohorts of
  thousands are a handful of nodes (10,000 x 3 in about 0.2 s); people the rules cannot
  tell apart from their own work (no groups) or current reviewers of a topped-up submission
  cost a node each. Its edges grow with the square of the number of groups: 500 teams of 4
  take about 1 s, thousands of teams would take tens of seconds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ._construct import (
    ClassProblem,
    Key,
    Need,
    Offer,
    circulant,
    compatible,
    most_even,
    rank,
    seeded_order,
)

Balance = Literal["strict", "best"]
Seed = str | bytes | int
LISTED = 3  # submissions named in an error before "and N more"


class AllocationError(ValueError):
    """An allocation that cannot be made, in a sentence the instructor can act on.

    ``code`` is stable for programs (the service turns it into its API error code) and
    ``submissions`` names the submissions concerned, when the problem is theirs.
    """

    def __init__(self, code: str, message: str, *, submissions: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.submissions = tuple(submissions)


@dataclass(frozen=True)
class Submission:
    """A submission under its pseudonymous id, with its author's user name and groups."""

    id: str
    author: str
    cohort: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Reviewer:
    """Someone who may review: usually a submitter, possibly a mentor or a non-submitter."""

    user: str
    cohort: str | None = None
    team: str | None = None


@dataclass(frozen=True, order=True)
class Assignment:
    submission: str
    reviewer: str


@dataclass(frozen=True)
class Constraints:
    """Rules on top of "not one's own"; both off by default."""

    across_cohorts: bool = False
    separate_teams: bool = False

    def key(self, cohort: str | None, team: str | None) -> Key:
        """The groups the active rules compare; two keys clash where both name one group."""
        return (cohort,) * self.across_cohorts + (team,) * self.separate_teams

    @property
    def active(self) -> bool:
        return self.across_cohorts or self.separate_teams

    def describe(self) -> str:
        if self.across_cohorts and self.separate_teams:
            return "Reviewers from another cohort and another team only"
        return (
            "Reviewers from another cohort only" if self.across_cohorts else "Never the same team"
        )


@dataclass(frozen=True)
class Allocation:
    """Who reviews what. Kept sorted and without duplicates, so equal allocations are equal."""

    assignments: tuple[Assignment, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "assignments", tuple(sorted(set(self.assignments))))

    def by_submission(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = defaultdict(list)
        for a in self.assignments:
            out[a.submission].append(a.reviewer)
        return {sid: tuple(users) for sid, users in out.items()}

    def loads(self) -> Counter[str]:
        return Counter(a.reviewer for a in self.assignments)


def allocate_reviewers(
    submissions: Iterable[Submission],
    reviewers: Iterable[Reviewer],
    k: int,
    *,
    seed: Seed,
    constraints: Constraints = Constraints(),
    balance: Balance = "strict",
) -> Allocation:
    """Give each submission ``k`` reviewers under the module's rules.

    Raises :class:`AllocationError` when there are no submissions, when some submission has
    fewer than ``k`` people who may review it (saying which rule is to blame), and, with
    ``balance="strict"``, when the rules force loads further apart than ±1 (saying how far).
    """
    rnd = _Round(submissions, reviewers, constraints, seed, k)
    needs = [rnd.need(s, frozenset()) for s in rnd.subs.values()]
    rnd.check_enough(needs)
    if not rnd.constrained:
        loose = [s.id for s in rnd.subs.values() if s.author not in rnd.revs]
        own = {u: rnd.by_author[u].id for u in rnd.revs if u in rnd.by_author}
        pairs = circulant(rnd.seed, list(rnd.revs), own, loose, k)
        return Allocation(tuple(Assignment(*p) for p in pairs))
    problem = ClassProblem(needs, [rnd.offer(r, 0) for r in rnd.revs.values()], rnd.seed)
    total, m = len(needs) * k, len(rnd.revs)
    placed = problem.solve(total // m, -(-total // m))
    if placed is None:
        lo, hi, placed = most_even(problem)
        if balance == "strict":
            raise AllocationError(
                "unbalanced",
                f"{constraints.describe()}: reviewer loads cannot be kept within ±1; the most "
                f"even allocation gives each reviewer between {lo} and {hi} reviews"
                f"{rnd.imbalance_reason()}. Allow uneven loads, or allocate without this rule.",
            )
    return Allocation(tuple(Assignment(*p) for p in placed))


def extend_allocation(
    allocation: Allocation,
    submissions: Iterable[Submission],
    reviewers: Iterable[Reviewer],
    k: int,
    *,
    seed: Seed,
    constraints: Constraints = Constraints(),
) -> Allocation:
    """Add what a re-run needs (late submissions, a larger ``k``), keeping every assignment.

    Guarantee: every existing assignment stays; every submission ends with at least ``k``
    reviewers (never fewer; one that already has more keeps them); new assignments keep all
    the rules; and the final loads are the most even possible *without moving an existing
    review*: the largest load among reviewers given new work is as small as it can be, then
    the smallest load as large as it can be. Loads can end more than one apart, e.g. a late
    submitter cannot catch up if the only new work is their own submission. With no
    existing assignments this is :func:`allocate_reviewers` with ``balance="best"``.
    """
    rnd = _Round(submissions, reviewers, constraints, seed, k)
    if not allocation.assignments:
        subs, revs = rnd.subs.values(), rnd.revs.values()
        return allocate_reviewers(subs, revs, k, seed=seed, constraints=constraints, balance="best")
    holders: dict[str, set[str]] = defaultdict(set)
    for a in allocation.assignments:
        if a.submission not in rnd.subs:
            raise AllocationError(
                "unknown_submission",
                f"The round has assignments for submission {a.submission!r}, which is not among "
                "the submissions given; pass every submission of the round.",
                submissions=[a.submission],
            )
        if a.reviewer == rnd.subs[a.submission].author:
            raise AllocationError(
                "self_review",
                f"The existing allocation has {a.reviewer!r} reviewing their own submission.",
                submissions=[a.submission],
            )
        holders[a.submission].add(a.reviewer)
    needs = [rnd.need(s, frozenset(holders[s.id])) for s in rnd.subs.values()]
    needs = [n for n in needs if n.demand > 0]
    if not needs:
        return allocation
    rnd.check_enough(needs)
    loads = allocation.loads()
    problem = ClassProblem(
        needs, [rnd.offer(r, loads[r.user]) for r in rnd.revs.values()], rnd.seed
    )
    _, _, placed = most_even(problem)
    return Allocation(allocation.assignments + tuple(Assignment(*p) for p in placed))


def reallocate_expired(
    allocation: Allocation,
    expired: Iterable[Assignment],
    submissions: Iterable[Submission],
    reviewers: Iterable[Reviewer],
    *,
    seed: Seed,
    constraints: Constraints = Constraints(),
    past: Iterable[Assignment] = (),
) -> Allocation:
    """Hand each expired assignment to another reviewer; return the new allocation.

    The new reviewer is eligible under the rules, is not the author, does not hold that
    submission already, and is neither the reviewer who let it lapse nor anyone in ``past``
    (earlier lapsed assignments, so nobody gets back work they let expire); among those, the
    lightest load wins, ties broken by the seed. Expired assignments are handled in seeded
    order, each seeing the loads the previous ones left. Pass as ``reviewers`` only people
    who may take more work (the service leaves out whoever lets leases lapse). All or
    nothing: if any cannot be placed, :class:`AllocationError` names them and nothing moves.
    """
    rnd = _Round(submissions, reviewers, constraints, seed, None)
    current = set(allocation.assignments)
    lapsed = set(expired)
    if missing := sorted(lapsed - current):
        raise AllocationError(
            "unknown_assignment",
            f"{missing[0].reviewer!r} has no assignment for submission {missing[0].submission!r}"
            " to reallocate.",
            submissions=[a.submission for a in missing],
        )
    current -= lapsed
    barred: dict[str, set[str]] = defaultdict(set)
    for a in (*current, *lapsed, *past):
        barred[a.submission].add(a.reviewer)
    loads = Counter(a.reviewer for a in current)
    stuck: list[str] = []
    by_name = {f"{a.submission}\0{a.reviewer}": a for a in lapsed}
    for a in (by_name[n] for n in seeded_order(rnd.seed, "expired", by_name)):
        sub = rnd.subs.get(a.submission)
        if sub is None:
            raise AllocationError(
                "unknown_submission", f"Submission {a.submission!r} is not in the round."
            )
        candidates = [
            r
            for r in rnd.revs.values()
            if r.user != sub.author
            and r.user not in barred[sub.id]
            and compatible(rnd.rev_key(r), rnd.sub_key(sub))
        ]
        if not candidates:
            stuck.append(sub.id)
            continue
        best = min(
            candidates, key=lambda r: (loads[r.user], rank(rnd.seed, "lease", sub.id, r.user))
        )
        current.add(Assignment(sub.id, best.user))
        barred[sub.id].add(best.user)
        loads[best.user] += 1
    if stuck:
        raise AllocationError(
            "no_replacement",
            f"Nobody else may review {_listing(stuck)}: every eligible reviewer already has it or "
            "let it lapse. Add reviewers, extend the lease, or review it as staff.",
            submissions=stuck,
        )
    return Allocation(tuple(current))


def extra_review(
    reviewer: Reviewer,
    allocation: Allocation,
    submissions: Iterable[Submission],
    *,
    completed: Mapping[str, int],
    seed: Seed,
    constraints: Constraints = Constraints(),
    past: Iterable[Assignment] = (),
) -> Assignment:
    """One more submission for a reviewer who finished and asks for more.

    Among submissions the reviewer may review (not their own, not already theirs now or in
    ``past``, within the rules) it picks the one with the fewest completed reviews, then the
    fewest assigned, then by seed, so extra effort goes where feedback is thinnest.
    """
    rnd = _Round(submissions, [reviewer], constraints, seed, None)
    mine = {a.submission for a in (*allocation.assignments, *past) if a.reviewer == reviewer.user}
    assigned = Counter(a.submission for a in allocation.assignments)
    key = rnd.rev_key(reviewer)
    options = [
        s
        for s in rnd.subs.values()
        if s.author != reviewer.user and s.id not in mine and compatible(key, rnd.sub_key(s))
    ]
    if not options:
        raise AllocationError(
            "no_extra_review",
            "There is no other submission you may review: you already have every one the "
            "round's rules allow. Thank you for reviewing!",
        )
    best = min(
        options,
        key=lambda s: (
            completed.get(s.id, 0),
            assigned[s.id],
            rank(rnd.seed, "extra", reviewer.user, s.id),
        ),
    )
    return Assignment(best.id, reviewer.user)


# --- inputs ---------------------------------------------------------------------------------


def _listing(ids: Collection[str]) -> str:
    shown = ", ".join(repr(i) for i in sorted(ids)[:LISTED])
    more = len(ids) - LISTED
    return (
        ("submission " if len(ids) == 1 else "submissions ")
        + shown
        + (f" and {more} more" if more > 0 else "")
    )


class _Round:
    """Checked inputs of one round, and the seeded orders everything else uses."""

    def __init__(
        self,
        submissions: Iterable[Submission],
        reviewers: Iterable[Reviewer],
        constraints: Constraints,
        seed: Seed,
        k: int | None,
    ) -> None:
        self.constraints = constraints
        self.k = k or 0
        self.seed = seed if isinstance(seed, bytes) else f"{type(seed).__name__}:{seed}".encode()
        self.subs: dict[str, Submission] = {}
        self.by_author: dict[str, Submission] = {}
        for s in submissions:
            if not s.id or not s.author:
                raise AllocationError("invalid", "Every submission needs an id and an author.")
            if s.id in self.subs:
                raise AllocationError("duplicate", f"Submission {s.id!r} is listed twice.")
            if (other := self.by_author.get(s.author)) is not None:
                raise AllocationError(
                    "duplicate",
                    f"{s.author!r} has two submissions ({other.id!r} and {s.id!r}); keep one "
                    "per author (nbgrader keeps the latest).",
                )
            self.subs[s.id] = self.by_author[s.author] = s
        self.revs: dict[str, Reviewer] = {}
        for r in reviewers:
            if not r.user or r.user in self.revs:
                raise AllocationError("duplicate", f"Reviewer {r.user!r} is empty or listed twice.")
            own = self.by_author.get(r.user)
            if own is not None and (own.cohort, own.team) != (r.cohort, r.team):
                raise AllocationError(
                    "inconsistent",
                    f"{r.user!r} is in cohort {own.cohort!r}, team {own.team!r} as an author but "
                    f"in cohort {r.cohort!r}, team {r.team!r} as a reviewer.",
                )
            self.revs[r.user] = r
        if k is not None and not self.subs:
            raise AllocationError(
                "no_submissions", "There are no submissions to review; collect them first."
            )
        if k is not None and k < 1:
            raise AllocationError("invalid", f"Reviews per submission must be 1 or more, not {k}.")
        keys = [self.sub_key(s) for s in self.subs.values()]
        keys += [self.rev_key(r) for r in self.revs.values()]
        # Rules that name no group of anyone exclude nobody: the circulant applies.
        self.constrained = any(v is not None for key in keys for v in key)

    def sub_key(self, s: Submission, rules: Constraints | None = None) -> Key:
        return (rules or self.constraints).key(s.cohort, s.team)

    def rev_key(self, r: Reviewer, rules: Constraints | None = None) -> Key:
        return (rules or self.constraints).key(r.cohort, r.team)

    def need(self, s: Submission, holders: frozenset[str]) -> Need:
        return Need(s.id, self.sub_key(s), self.k - len(holders), holders | {s.author})

    def offer(self, r: Reviewer, load: int) -> Offer:
        return Offer(r.user, self.rev_key(r), load)

    def eligible(self, needs: list[Need], rules: Constraints) -> dict[str, int]:
        """How many reviewers may still review each need, counted by group, not by pair."""
        by_key = Counter(self.rev_key(r, rules) for r in self.revs.values())
        base: dict[Key, int] = {}
        out = {}
        for need in needs:
            key = self.sub_key(self.subs[need.id], rules)
            if key not in base:
                base[key] = sum(n for rk, n in by_key.items() if compatible(rk, key))
            barred = [self.revs[u] for u in need.excluded if u in self.revs]
            out[need.id] = base[key] - sum(compatible(self.rev_key(r, rules), key) for r in barred)
        return out

    def check_enough(self, needs: list[Need]) -> None:
        """Refuse, saying who is short, unless each need has enough eligible reviewers.

        Without load bounds the flow succeeds exactly when this holds (a reviewer may take
        every submission once), so it is the whole test for rules 1, 2 and 4.
        """
        counts = self.eligible(needs, self.constraints)
        if not self._short(needs, self.constraints):
            return
        most = min(counts[n.id] + self.k - n.demand for n in needs)
        advice = f"ask for at most {most} reviews per submission, or add" if most else "add"
        plain = self.eligible(needs, Constraints())
        if short := {n.id: plain[n.id] for n in needs if plain[n.id] < n.demand}:
            if most < min(plain[n.id] + self.k - n.demand for n in needs):
                advice = advice.replace("submission", "submission under this round's rules")
            others = "other" if all(len(n.excluded) == 1 for n in needs) else "further"
            raise AllocationError(
                "too_few_reviewers",
                f"Each submission needs {self.k} reviewers besides its author, but there are "
                f"only {min(short.values())} {others} reviewers for {_listing(short)} "
                f"({len(self.revs)} reviewers in all); {advice} reviewers.",
                submissions=short,
            )
        short = {n.id: counts[n.id] for n in needs if counts[n.id] < n.demand}
        blamed = self.constraints  # with both rules, name the one that alone runs out
        if blamed.across_cohorts and blamed.separate_teams:
            alone = (Constraints(across_cohorts=True), Constraints(separate_teams=True))
            blamed = next((c for c in alone if self._short(needs, c)), blamed)
        sid = min(short)
        more = f" (and {len(short) - 1} more submissions are short)" if len(short) > 1 else ""
        raise AllocationError(
            "constraint_unsatisfiable",
            f"{blamed.describe()}: only {short[sid]} reviewers may review submission {sid!r} "
            f"({self.describe(self.subs[sid], blamed)}), which needs {self.k}{more}; {advice} "
            "reviewers from other groups, or allocate without this rule.",
            submissions=short,
        )

    def _short(self, needs: list[Need], rules: Constraints) -> bool:
        counts = self.eligible(needs, rules)
        return any(counts[n.id] < n.demand for n in needs)

    def imbalance_reason(self) -> str:
        """Name a group that forces loads apart, when one plainly does."""
        reviewers: dict[Key, list[Reviewer]] = defaultdict(list)
        authors: dict[Key, list[Submission]] = defaultdict(list)
        for r in self.revs.values():
            reviewers[self.rev_key(r)].append(r)
        for s in self.subs.values():
            authors[self.sub_key(s)].append(s)
        total = self.k * len(self.subs)
        low, high = total // len(self.revs), -(-total // len(self.revs))
        for key, subs in sorted(authors.items(), key=lambda kv: (-len(kv[1]), repr(kv[0]))):
            helpers = sum(len(rs) for rk, rs in reviewers.items() if compatible(rk, key))
            if helpers and self.k * len(subs) > high * helpers:
                return (
                    f" (the {len(subs)} submissions from {self.describe(subs[0])} need "
                    f"{self.k * len(subs)} reviews from the {helpers} reviewers allowed on them)"
                )
        for key, revs in sorted(reviewers.items(), key=lambda kv: (-len(kv[1]), repr(kv[0]))):
            options = sum(len(ss) for sk, ss in authors.items() if compatible(key, sk))
            if options < low:
                return (
                    f" (the {len(revs)} reviewers in {self.describe(revs[0])} may review only "
                    f"{options} submissions)"
                )
        return ""

    def describe(self, s: Submission | Reviewer, rules: Constraints | None = None) -> str:
        rules = rules or self.constraints
        return ", ".join(
            [f"cohort {s.cohort!r}"] * rules.across_cohorts
            + [f"team {s.team!r}"] * rules.separate_teams
        )
