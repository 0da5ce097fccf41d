"""Rounds' aggregates, cached per process and computed outside database transactions.

PG1 over a class of a thousand (1,000 submissions x 5 criteria) takes about 1.6 s. Computed
inside the transaction that read the scores, it held the service's one SQLite database thread
for all that time (every other request's reads and writes waited behind it) and, where the
transaction had written (``round_view`` settles lapsed leases first), SQLite's write lock
too. So the service runs reads that need an aggregate through :func:`outside_transaction`:
the transaction reads the scores and, if their aggregate is not cached, raises
:class:`AggregateNeeded`, which rolls it back; the handler computes the aggregate on a worker
thread with no transaction open (:meth:`AggregateNeeded.compute`: it carries the scores), then
runs the read again in a second short transaction, which finds it cached. Nothing is written:
the aggregate is never stored, only cached, keyed by exactly the scores, maximum points and
method it came from, so it is never stale, and if the scores changed in between, the second
read asks again for the new ones.

Called directly (tests, scripts), :func:`cached_aggregate` computes in place as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from .aggregate import Aggregate, PeerScore, aggregate

MAX_CACHED = 32  # rounds' aggregates kept in this process
_AGGREGATES: dict[tuple[Any, ...], Aggregate] = {}
_LOCK = threading.Lock()  # filled from worker threads, read on the database thread
_DEFER: ContextVar[bool] = ContextVar("cohortlab_defer_aggregates", default=False)


class AggregateNeeded(Exception):
    """A round's aggregate is not cached: compute it (:meth:`compute`, no transaction
    needed: it holds the scores) and run the read again."""

    def __init__(
        self, key: tuple[Any, ...], peer: list[PeerScore], points: dict[str, float], method: str
    ) -> None:
        super().__init__("the round's aggregate must be computed first")
        self.key, self.peer, self.points, self.method = key, peer, points, method

    def compute(self) -> Aggregate:
        result = aggregate(self.peer, self.points, self.method)
        with _LOCK:
            _AGGREGATES[self.key] = result
            while len(_AGGREGATES) > MAX_CACHED:
                _AGGREGATES.pop(next(iter(_AGGREGATES)))
        return result


def cached_aggregate(peer: list[PeerScore], points: dict[str, float], method: str) -> Aggregate:
    """The aggregate of these scores, from the cache or computed now; under
    :func:`outside_transaction`, a missing one raises :class:`AggregateNeeded` instead."""
    key = (method, tuple(sorted(points.items())), tuple(peer))
    with _LOCK:
        found = _AGGREGATES.get(key)
    if found is not None:
        return found
    need = AggregateNeeded(key, peer, points, method)
    if _DEFER.get():
        raise need
    return need.compute()


def outside_transaction(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(session, *args)`` raising :class:`AggregateNeeded` rather than computing a
    round's aggregate inside its transaction (the service's handlers catch it)."""

    def deferring(session: Session, *args: Any) -> Any:
        token = _DEFER.set(True)
        try:
            return fn(session, *args)
        finally:
            _DEFER.reset(token)

    return deferring
