"""The discussion read cache: shared per visibility class, dropped whole on a write."""

from __future__ import annotations

import pytest
from cohortlab.access import Caller
from cohortlab.discussions import cache as cache_mod
from cohortlab.discussions.cache import ReadCache, viewer_class


def caller(role: str, cohorts: set[str] = frozenset()) -> Caller:  # type: ignore[assignment]
    return Caller("x", 1, "c1", role, frozenset(cohorts))


def test_viewer_classes_separate_staff_and_cohorts() -> None:
    assert viewer_class(caller("instructor")) == viewer_class(caller("mentor", {"red"}))
    assert viewer_class(caller("learner", {"red"})) != viewer_class(caller("learner", {"blue"}))
    assert viewer_class(caller("learner", {"red", "blue"})) == viewer_class(
        caller("learner", {"blue", "red"})
    )
    assert viewer_class(caller("learner")) != viewer_class(caller("instructor"))


def test_a_learner_with_a_private_question_gets_a_class_of_their_own() -> None:
    asker, peer = (
        Caller("a", 1, "c1", "learner", frozenset()),
        Caller("b", 2, "c1", "learner", frozenset()),
    )
    askers = frozenset({1})
    assert viewer_class(asker, askers) != viewer_class(peer, askers)
    assert viewer_class(peer, askers) == viewer_class(peer)
    # staff see every thread anyway: still one class
    assert viewer_class(Caller("i", 1, "c1", "instructor", frozenset()), askers) == ("staff",)


def test_hit_then_invalidate_reloads() -> None:
    cache, loads = ReadCache(), []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("c1", "k", load) == 1
    assert cache.get_or_load("c1", "k", load) == 1
    cache.invalidate("c2")  # another course's write leaves c1 alone
    assert cache.get_or_load("c1", "k", load) == 1
    cache.invalidate("c1")
    assert cache.get_or_load("c1", "k", load) == 2
    assert (cache.hits, cache.misses) == (2, 2)


def test_a_load_overtaken_by_a_write_is_not_stored() -> None:
    cache = ReadCache()

    def load_during_write() -> str:
        cache.invalidate("c1")  # a write committed while this read ran
        return "stale"

    assert cache.get_or_load("c1", "k", load_during_write) == "stale"
    assert cache.get_or_load("c1", "k", lambda: "fresh") == "fresh"


def test_entries_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(cache_mod.time, "monotonic", lambda: now[0])
    cache = ReadCache(max_age=30)
    assert cache.get_or_load("c1", "k", lambda: "old") == "old"
    now[0] += 29
    assert cache.get_or_load("c1", "k", lambda: "new") == "old"
    now[0] += 2
    assert cache.get_or_load("c1", "k", lambda: "new") == "new"


def test_size_is_bounded() -> None:
    cache = ReadCache(max_entries_per_course=3)
    for i in range(10):
        cache.get_or_load("c1", i, lambda i=i: i)
    assert len(cache._entries["c1"]) <= 3
