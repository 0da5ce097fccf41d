"""An open event stream hands over an event only while its person is in the event's course
(and cohort) by the identity the service holds for the stream's token now
(``events.may_receive``, ``service.stream_access.StreamAccess``)."""

from __future__ import annotations

import time

from cohortlab.courses import membership
from cohortlab.events import may_receive
from cohortlab.service.hub import HubGroups
from cohortlab.service.hubauth import RefreshingHubOAuth, token_cache_key
from cohortlab.service.stream_access import StreamAccess

PROPERTIES = {
    "nbgrader-c1": {},
    "formgrade-c1": {},
    "nbgrader-c2": {},
    "cohort-c1-red": {"cohortlab": {"kind": "cohort", "course": "c1", "cohort": "red"}},
    "cohort-c1-blue": {"cohortlab": {"kind": "cohort", "course": "c1", "cohort": "blue"}},
}


def _member(*groups: str):
    return membership(groups, PROPERTIES)


def test_events_about_no_course_always_pass() -> None:
    assert may_receive(_member(), {"type": "pong", "token": "x"})


def test_a_course_event_reaches_only_the_courses_members() -> None:
    event = {"type": "discussion", "course": "c1", "thread_id": 1}
    assert may_receive(_member("nbgrader-c1"), event)
    assert not may_receive(_member("nbgrader-c2"), event)
    assert not may_receive(_member(), event)


def test_a_cohort_event_reaches_its_cohort_and_the_courses_staff() -> None:
    event = {"type": "discussion", "course": "c1", "cohort": "red", "thread_id": 1}
    assert may_receive(_member("nbgrader-c1", "cohort-c1-red"), event)
    assert not may_receive(_member("nbgrader-c1", "cohort-c1-blue"), event)
    assert not may_receive(_member("cohort-c1-red"), event)  # a cohort group but no course role
    assert may_receive(_member("formgrade-c1"), event)


def _stream(max_age: float = 60):
    auth = RefreshingHubOAuth(
        api_url="http://127.0.0.1:9/hub/api", api_token="x", cache_max_age=max_age
    )
    groups = HubGroups("http://127.0.0.1:9/hub/api", "x", max_age=3600)
    groups._cache, groups._fetched_at = PROPERTIES, time.monotonic()
    lost: list[bool] = []
    model = {"name": "ada", "groups": ["nbgrader-c1", "cohort-c1-red"]}
    auth.cache[token_cache_key("tok", "s1")] = model
    access = StreamAccess(auth, groups, "tok", "s1", model, on_lost=lambda: lost.append(True))
    return auth, access, lost


def test_a_stream_follows_the_identity_its_token_has_now() -> None:
    auth, access, _lost = _stream()
    event = {"type": "discussion", "course": "c1", "cohort": "red"}
    assert access.allows(event)
    # the identity every request with this token uses is renewed: she left the cohort
    auth.cache[token_cache_key("tok", "s1")] = {"name": "ada", "groups": ["nbgrader-c1"]}
    assert not access.allows(event)
    assert access.allows({**event, "cohort": None})
    auth.cache[token_cache_key("tok", "s1")] = {"name": "ada", "groups": []}
    assert not access.allows({"type": "live", "course": "c1"})
    assert access.allows({"type": "pong"})


async def test_a_stream_decides_no_course_event_without_a_fresh_identity() -> None:
    auth, access, _lost = _stream(max_age=60)
    assert access.allows({"type": "discussion", "course": "c1"})
    # the identity was given 61 s ago: past its period, and the hub cannot be reached
    key = token_cache_key("tok", "s1")
    auth.cache.timestamps[key] -= 61
    access._model_at -= 61
    assert access.allows({"type": "discussion", "course": "c1"}) is None  # held, not given
    assert access.allows({"type": "pong"})
    access.stop()


async def test_held_events_are_decided_when_the_hub_answers() -> None:
    """Events that came while the identity was being checked again are handed over (or
    refused) by the identity the hub then gives, never by the old one."""
    import asyncio

    answers: list[dict] = [{"name": "ada", "groups": ["nbgrader-c1"]}]

    class Hub(RefreshingHubOAuth):
        async def user_for_token(self, token, sync=True, *, session_id="", use_cache=True):
            return answers[0]

    auth = Hub(api_url="http://127.0.0.1:9/hub/api", api_token="x", cache_max_age=60)
    groups = HubGroups("http://127.0.0.1:9/hub/api", "x", max_age=3600)
    groups._cache, groups._fetched_at = PROPERTIES, time.monotonic()
    known: list[bool] = []
    model = {"name": "ada", "groups": ["nbgrader-c1", "cohort-c1-red"]}
    access = StreamAccess(
        auth, groups, "tok", "s1", model, lambda: None, lambda: known.append(True)
    )
    access._model_at -= 61  # stale, and nothing in the cache
    event = {"type": "live", "course": "c1", "cohort": "red"}
    assert access.allows(event) is None
    await asyncio.wait_for(access._checking, 5)  # the check the stale identity started
    assert known == [True]
    assert access.allows({"type": "live", "course": "c1"})  # the hub's answer: in the course
    assert not access.allows(event)  # but no longer in the red cohort
    access.stop()


async def test_the_stream_looks_up_the_key_jupyterhub_caches_the_identity_under() -> None:
    """``token_cache_key`` repeats a detail of JupyterHub's ``HubAuth.user_for_token``."""
    seen: list[str | None] = []

    class Recording(RefreshingHubOAuth):
        async def _check_hub_authorization(self, url, api_token, cache_key=None, use_cache=True):
            seen.append(cache_key)
            return {"name": "ada"}

    auth = Recording(api_url="http://127.0.0.1:9/hub/api", api_token="x", cache_max_age=60)
    await auth.user_for_token("tok", session_id="s1", sync=False)
    await auth.user_for_token("tok", sync=False)
    assert seen == [token_cache_key("tok", "s1"), token_cache_key("tok")]
