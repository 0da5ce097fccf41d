"""The two constructions behind :mod:`cohortlab.reviews.allocation`, which explains them and
why they are correct: the circulant (:func:`circulant`) for rounds with no rule beyond "not
one's own", and for the rest a b-matching by max-flow on classes of interchangeable people
(Dinic's :class:`FlowNetwork`, :class:`ClassProblem` with its round-robin dealing back to
people, and :func:`most_even`, the search for the most even load window).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

Key = tuple[str | None, ...]  # the groups a person is in that the round's rules compare
Pair = tuple[str, str]  # (submission id, reviewer user)


def seeded_order(seed: bytes, purpose: str, names: Iterable[str]) -> list[str]:
    """A pseudo-random order fixed by the seed, independent of the order names come in."""
    return sorted(names, key=lambda n: (rank(seed, purpose, n), n))


def rank(seed: bytes, *parts: str) -> bytes:
    return hmac.new(seed, "\0".join(parts).encode(), hashlib.sha256).digest()


def circulant(
    seed: bytes, reviewers: list[str], own: dict[str, str], loose: list[str], k: int
) -> list[Pair]:
    """Reviewers on a seeded cycle, submissions in Bresenham-spaced gaps, each reviewed by the
    ``k`` reviewers after its gap. ``own`` maps reviewers who submitted to their submission;
    ``loose`` are submissions whose authors do not review. Needs ``k < len(reviewers)``."""
    m, n = len(reviewers), len(own) + len(loose)
    gaps = [(j + 1) * n // m - j * n // m for j in range(m)]
    positions = [int(p) for p in seeded_order(seed, "seat", map(str, range(m)))]
    seat = [""] * m
    # Authors take seats whose gap is not empty: there are min(n, m) >= len(own) of them.
    authors = seeded_order(seed, "reviewer", own)
    for user, p in zip(authors, [p for p in positions if gaps[p] > 0], strict=False):
        seat[p] = user
    others = seeded_order(seed, "reviewer", [u for u in reviewers if u not in own])
    for user, p in zip(others, [p for p in positions if not seat[p]], strict=True):
        seat[p] = user
    held = [[own[u]] if u in own else [] for u in seat]
    rest = iter(seeded_order(seed, "loose", loose))
    for p in positions:
        held[p] += [next(rest) for _ in range(gaps[p] - len(held[p]))]
    return [(sid, seat[(p + d) % m]) for p in range(m) for sid in held[p] for d in range(1, k + 1)]


def compatible(reviewer: Key, author: Key) -> bool:
    """The rules allow this reviewer group on this author group: no group named by both.

    Someone in several cohorts (teams) has them joined by ``+`` (``red+blue``): they clash
    with anyone in any one of them. Cohort and team names are slugs, so never hold ``+``.
    """
    return all(
        r is None or a is None or not _shared(r, a) for r, a in zip(reviewer, author, strict=True)
    )


def _shared(a: str, b: str) -> bool:
    if a == b:
        return True
    return ("+" in a or "+" in b) and not set(a.split("+")).isdisjoint(b.split("+"))


@dataclass(frozen=True)
class Need:
    """A submission still short of reviewers; ``excluded`` may never review it."""

    id: str
    key: Key
    demand: int
    excluded: frozenset[str]


@dataclass(frozen=True)
class Offer:
    """A reviewer who can take work, with the load they already carry."""

    user: str
    key: Key
    load: int


class FlowNetwork:
    """Dinic's max-flow with integer capacities; the graphs here have classes, not people."""

    def __init__(self, nodes: int) -> None:
        self._adj: list[list[int]] = [[] for _ in range(nodes)]
        self._to: list[int] = []
        self._cap: list[int] = []

    def add_edge(self, u: int, v: int, capacity: int) -> int:
        """Add ``u -> v``; return the edge's index for :meth:`flow`."""
        edge = len(self._to)
        self._to += [v, u]
        self._cap += [capacity, 0]
        self._adj[u].append(edge)
        self._adj[v].append(edge + 1)
        return edge

    def flow(self, edge: int) -> int:
        return self._cap[edge ^ 1]  # what the reverse edge could send back

    def max_flow(self, source: int, sink: int) -> int:
        total = 0
        while True:
            level = [-1] * len(self._adj)
            level[source] = 0
            queue = deque([source])
            while queue:
                u = queue.popleft()
                for e in self._adj[u]:
                    if self._cap[e] > 0 and level[self._to[e]] < 0:
                        level[self._to[e]] = level[u] + 1
                        queue.append(self._to[e])
            if level[sink] < 0:
                return total
            cursor = [0] * len(self._adj)
            while pushed := self._augment(source, sink, level, cursor):
                total += pushed

    def _augment(self, source: int, sink: int, level: list[int], cursor: list[int]) -> int:
        """One augmenting path along the level graph (iterative, so no recursion limit)."""
        path: list[int] = []
        u = source
        while u != sink:
            edges = self._adj[u]
            while cursor[u] < len(edges):
                e = edges[cursor[u]]
                if self._cap[e] > 0 and level[self._to[e]] == level[u] + 1:
                    break
                cursor[u] += 1
            else:
                if not path:
                    return 0
                level[u] = -1  # a dead end for the rest of this phase
                u = self._to[path.pop() ^ 1]
                cursor[u] += 1
                continue
            path.append(e)
            u = self._to[e]
        pushed = min(self._cap[e] for e in path)
        for e in path:
            self._cap[e] -= pushed
            self._cap[e ^ 1] += pushed
        return pushed


@dataclass(frozen=True)
class _Class:
    members: tuple[str, ...]  # in seeded order
    key: Key
    value: int  # demand for a submission class, current load for a reviewer class
    barred: frozenset[str] = frozenset()  # class-of-one reviewers this submission class excludes


class ClassProblem:
    """Reviews still to place, with interchangeable people merged into classes.

    Reviewers are interchangeable when they have the same groups and current load; a reviewer
    whom some submission must exclude although the rules alone would not (an author without
    groups, a current reviewer of a topped-up submission) becomes a class of one. Submissions
    are interchangeable when they have the same groups, demand and such exclusions.
    """

    def __init__(self, needs: Sequence[Need], offers: Sequence[Offer], seed: bytes) -> None:
        self._seed = seed
        keyed = {o.user: o.key for o in offers}
        special = {
            u for n in needs for u in n.excluded if u in keyed and compatible(keyed[u], n.key)
        }
        revs: dict[Hashable, list[Offer]] = defaultdict(list)
        for o in offers:
            revs[("one", o.user) if o.user in special else ("many", o.key, o.load)].append(o)
        subs: dict[Hashable, list[Need]] = defaultdict(list)
        for n in needs:
            subs[(n.key, n.demand, tuple(sorted(n.excluded & special)))].append(n)
        self.reviewers = [
            _Class(self._order("member", [o.user for o in group]), group[0].key, group[0].load)
            for _, group in self._classes(revs)
        ]
        self.submissions = [
            _Class(
                self._order("member", [n.id for n in group]), group[0].key, group[0].demand,
                group[0].excluded & special,
            )
            for _, group in self._classes(subs)
        ]  # fmt: skip
        self.pairs = [
            [
                j
                for j, rc in enumerate(self.reviewers)
                if compatible(rc.key, sc.key) and not set(rc.members) & sc.barred
            ]
            for sc in self.submissions
        ]  # fmt: skip
        self.demand = sum(n.demand for n in needs)
        self.most_per_reviewer = len(needs)  # one review of each submission at most
        self.loads = [rc.value for rc in self.reviewers for _ in rc.members]

    def solve(self, lo: int, hi: int) -> list[Pair] | None:
        """An allocation whose reviewers all end with a load in ``[lo, hi]``, or None."""
        subs, revs = self.submissions, self.reviewers
        net = FlowNetwork(3 + len(subs) + len(revs))
        source, sink, detour = 0, 1, 2
        lower_total = 0
        for j, rc in enumerate(revs):
            low = max(0, lo - rc.value) * len(rc.members)
            high = max(0, hi - rc.value) * len(rc.members)
            lower_total += low
            net.add_edge(3 + len(subs) + j, sink, low)
            net.add_edge(3 + len(subs) + j, detour, high - low)
        if lower_total > self.demand:
            return None
        net.add_edge(detour, sink, self.demand - lower_total)
        edges: dict[tuple[int, int], int] = {}
        for i, sc in enumerate(subs):
            net.add_edge(source, 3 + i, sc.value * len(sc.members))
            for j in self.pairs[i]:
                capacity = len(sc.members) * len(revs[j].members)
                edges[i, j] = net.add_edge(3 + i, 3 + len(subs) + j, capacity)
        if net.max_flow(source, sink) < self.demand:
            return None
        return self._deal({ij: net.flow(e) for ij, e in edges.items()})

    def _deal(self, flows: dict[tuple[int, int], int]) -> list[Pair]:
        """Turn class-to-class flows into assignments of people (the module's dealing)."""
        runs: list[list[tuple[str, int]]] = [[] for _ in self.reviewers]
        for i, sc in enumerate(self.submissions):
            size = len(sc.members)
            dealt = 0
            for j in self.pairs[i]:
                f = flows[i, j]
                for offset, sid in enumerate(sc.members):
                    # tokens dealt..dealt+f-1 go round-robin; count the ones landing on sid
                    first = (offset - dealt) % size
                    count = 0 if first >= f else (f - 1 - first) // size + 1
                    if count:
                        runs[j].append((sid, count))
                dealt += f
        out: list[Pair] = []
        for j, rc in enumerate(self.reviewers):
            size, at = len(rc.members), 0
            for sid, count in runs[j]:
                out += [(sid, rc.members[(at + d) % size]) for d in range(count)]
                at += count
        return out

    def _order(self, purpose: str, names: list[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: (self._rank(purpose, n), n)))

    def _classes(self, groups: dict[Hashable, list]) -> list[tuple[Hashable, list]]:
        return sorted(
            groups.items(), key=lambda kv: (self._rank("class", repr(kv[0])), repr(kv[0]))
        )

    def _rank(self, purpose: str, name: str) -> bytes:
        return hmac.new(self._seed, f"{purpose}\0{name}".encode(), hashlib.sha256).digest()


def most_even(problem: ClassProblem) -> tuple[int, int, list[Pair]]:
    """The window ``[lo, hi]`` with ``hi`` smallest, then ``lo`` largest, and its allocation.

    Starts from the water level (``hi`` smallest and ``lo`` largest that the total alone
    allows), which is optimal whenever it is feasible, else binary-searches: feasibility
    only grows with ``hi`` and only shrinks with ``lo``.
    """
    loads, demand = problem.loads, problem.demand
    hi = _level(loads, demand, lambda h: sum(max(0, h - e) for e in loads) >= demand)
    lo_cap = min(
        hi, _level(loads, demand, lambda v: sum(max(0, v - e) for e in loads) > demand) - 1
    )
    found = problem.solve(lo_cap, hi)
    if found is not None:
        return lo_cap, hi, found
    top = max(loads, default=0) + problem.most_per_reviewer
    if problem.solve(0, top) is None:
        raise RuntimeError("allocation: no flow although every submission has enough reviewers")
    while hi < top:
        mid = (hi + top) // 2
        hi, top = (hi, mid) if problem.solve(0, mid) is not None else (mid + 1, top)
    lo, best = 0, lo_cap
    while lo < best:
        mid = (lo + best + 1) // 2
        lo, best = (mid, best) if problem.solve(mid, top) is not None else (lo, mid - 1)
    placed = problem.solve(lo, top)
    assert placed is not None  # lo = 0 is feasible, and the search only keeps feasible values
    return lo, top, placed


def _level(loads: list[int], demand: int, reached: Callable[[int], bool]) -> int:
    """The smallest whole level at which ``reached(level)`` holds (it is monotone)."""
    low, high = 0, max(loads, default=0) + demand + 1
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if reached(mid) else (mid + 1, high)
    return low
