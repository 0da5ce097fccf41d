"""Cached discussion reads, dropped whole for a course on any write in it.

Opening a notebook asks for its per-cell thread counts and then for the active
cell's threads, and every learner in a class does so at once; the answers only
change when someone writes. So reads are cached per course, keyed by what the
answer depends on — the notebook, cell, scope and the viewer's *visibility
class* (staff, or a learner in a given set of cohorts) — and everything about
one course is dropped the moment a write in that course commits. Details that
differ per person (``mine``, ``following``, whether an anonymous author is
shown) are filled in per request from cached ids, never cached per class.

Each service replica has its own cache; the event bus tells every replica of a
write (:meth:`cohortlab.events.EventBus.invalidate`), and entries also expire
after ``max_age`` seconds so that a lost notification heals by itself.

A read that began before a write committed cannot store a stale answer under
the new generation: the generation is read before the query, and storing is
refused if it has moved on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Hashable
from typing import Any, TypeVar

from ..access import Caller

T = TypeVar("T")


def viewer_class(caller: Caller, private_askers: Collection[int] = ()) -> Hashable:
    """What, besides the query, decides which threads a caller sees (``visible_filter``).
    A learner who has asked staff a private question (``private_askers``) sees it too, so
    their answers are their own; everyone else's are shared by their class."""
    if caller.is_staff:
        return ("staff",)
    if caller.user_id in private_askers:
        return ("learner", tuple(sorted(caller.cohorts)), caller.user_id)
    return ("learner", tuple(sorted(caller.cohorts)))


class ReadCache:
    def __init__(self, max_age: float = 30.0, max_entries_per_course: int = 5000) -> None:
        self.max_age = max_age
        self.max_entries = max_entries_per_course
        self._generation: dict[str, int] = {}
        self._entries: dict[str, dict[Hashable, tuple[float, Any]]] = {}
        self.hits = 0
        self.misses = 0

    def generation(self, course: str) -> int:
        return self._generation.get(course, 0)

    def invalidate(self, course: str) -> None:
        self._generation[course] = self.generation(course) + 1
        self._entries.pop(course, None)

    def get_or_load(self, course: str, key: Hashable, load: Callable[[], T]) -> T:
        """The cached answer for ``key`` in ``course``, or ``load()``'s, stored if still current."""
        now = time.monotonic()
        entries = self._entries.get(course)
        if entries is not None:
            found = entries.get(key)
            if found is not None and now - found[0] < self.max_age:
                self.hits += 1
                return found[1]
        self.misses += 1
        generation = self.generation(course)
        value = load()
        if self.generation(course) == generation:
            entries = self._entries.setdefault(course, {})
            if len(entries) >= self.max_entries:
                entries.clear()
            entries[key] = (now, value)
        return value
