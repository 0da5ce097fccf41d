"""Someone removed from a course, or moved out of a cohort, hears nothing more of it (issue 13,
item 7: "notifications and live events keep reaching people removed from a course or cohort;
an event stream's identity is checked once").

On the real hub, in a course of its own: a learner follows threads and keeps her event stream
open, as her lab does; an admin then changes her hub groups through the hub's API. Once the
service's identity for her token has caught up (her API calls are refused: the documented
identity-cache time, ``auth_cache_max_age``, 1 s on the test hub), the stream opened before the
change carries nothing more about the course or cohort she left, followers' notifications
stop, and those made before the change can no longer be read.

"Nothing more" is shown without waiting a fixed time: events reach a stream in the order they
are published, and each change here is published before the write's answer returns, so a
pong she asks for afterwards arrives after anything meant for her. Controls show the stream
alive and the events sent: before the change she gets them, and a cohort-mover still gets
the course's.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.api import Person, event_stream
from tests.helpers.hub import Hub
from tests.helpers.waiting import wait_until
from tests.integration.test_cohort_workspace import Course, clean_up, make_course


@pytest.fixture(scope="module")
def course(cl_hub: Hub) -> Iterator[Course]:
    c = make_course(cl_hub)
    try:
        yield c
    finally:
        clean_up(c)


def _cohort(course: Course, name: str, members: list[str]) -> str:
    """A cohort group, made by an admin through the hub's API, as CohortLab makes them."""
    group = f"cohort-{course.id}-{name}"
    course.hub.admin("POST", f"/groups/{group}", json={"users": members})
    properties = {"cohortlab": {"kind": "cohort", "course": course.id, "cohort": name}}
    course.hub.admin("PUT", f"/groups/{group}/properties", json=properties)
    return group


async def _drain(conn: Any, who: Person) -> list[dict[str, Any]]:
    """Every event on ``conn`` before a pong of ``who``'s own."""
    token = uuid.uuid4().hex[:12]
    who.ok("POST", "events/ping", token=token)
    events = []
    while True:
        message = await asyncio.wait_for(conn.read_message(), 15)
        assert message is not None, "the stream closed"
        event = json.loads(message)
        if event.get("type") == "pong" and event.get("token") == token:
            return events
        events.append(event)


def _about(events: list[dict[str, Any]], course: str, thread_id: int | None = None) -> list:
    return [
        e
        for e in events
        if e.get("course") == course and (thread_id is None or e.get("thread_id") == thread_id)
    ]


async def test_a_learner_removed_from_the_course_hears_nothing_more_of_it(
    cl_hub: Hub, course: Course
) -> None:
    ann, bob = course.person("ann"), course.person("bob")
    base = f"courses/{course.id}"
    thread = ann.ok("POST", f"{base}/threads", {"title": "Median?", "body": "How?"})
    tid = thread["id"]
    bob.ok("POST", f"{base}/threads/{tid}/posts", {"body": f"Same question, @{ann.name}"})
    stream = await event_stream(cl_hub, bob.name)
    try:
        ann.ok("POST", f"{base}/threads/{tid}/posts", {"body": "the middle value"})
        before = await _drain(stream, bob)
        assert {e["type"] for e in _about(before, course.id, tid)} == {
            "discussion",
            "notification",
        }  # control: he hears of it while in the course

        cl_hub.admin("DELETE", f"/groups/nbgrader-{course.id}/users", json={"users": [bob.name]})
        wait_until(
            lambda: bob.call("GET", f"{base}/threads").status_code == 403,
            timeout=15,
            what="the service to know bob left the course",
        )
        ann.ok("POST", f"{base}/threads/{tid}/posts", {"body": f"@{bob.name}: sorted()[n//2]"})
        ann.ok("POST", f"{base}/threads", {"title": "New", "body": f"for @{bob.name}"})
        after = await _drain(stream, bob)
        assert _about(after, course.id) == []
    finally:
        stream.close()
    # nor can he read, through the API, what he was told before
    listed = bob.ok("GET", "notifications")
    assert [n for n in listed["notifications"] if n["course"] == course.id] == []
    assert listed["unread"] == 0
    assert bob.call("GET", f"{base}/threads/{tid}").status_code == 403
    # his follow stays (he may come back); while he is away it reaches nobody
    cl_hub.admin("POST", f"/groups/nbgrader-{course.id}/users", json={"users": [bob.name]})


async def test_a_learner_moved_out_of_a_cohort_hears_nothing_more_of_it(
    cl_hub: Hub, course: Course
) -> None:
    ann, cat = course.person("ann"), course.person("cat")
    base = f"courses/{course.id}"
    red = _cohort(course, "red", [ann.name, cat.name])
    blue = _cohort(course, "blue", [])
    red_thread = {"title": "Red only", "body": "Our plan", "visibility": "cohort", "cohort": "red"}
    opened = wait_until(  # a refused write writes nothing: tried until ann is known in red
        lambda: (r := ann.call("POST", f"{base}/threads", red_thread)).status_code == 201 and r,
        timeout=15,
        what="ann to be known in cohort red",
    )
    thread = opened.json()
    tid = thread["id"]
    wait_until(
        lambda: cat.call("GET", f"{base}/threads/{tid}").status_code == 200,
        timeout=15,
        what="cat to be known in cohort red",
    )
    cat.ok("POST", f"{base}/threads/{tid}/posts", {"body": "I'm in"})
    stream = await event_stream(cl_hub, cat.name)
    try:
        ann.ok("POST", f"{base}/threads/{tid}/posts", {"body": "Tuesday"})
        before = await _drain(stream, cat)
        assert {e["type"] for e in _about(before, course.id, tid)} == {
            "discussion",
            "notification",
        }

        cl_hub.admin("DELETE", f"/groups/{red}/users", json={"users": [cat.name]})
        cl_hub.admin("POST", f"/groups/{blue}/users", json={"users": [cat.name]})
        wait_until(
            lambda: cat.call("GET", f"{base}/threads/{tid}").status_code == 404,
            timeout=15,
            what="the service to know cat left cohort red",
        )
        ann.ok("POST", f"{base}/threads/{tid}/posts", {"body": f"@{cat.name} Wednesday now"})
        everyone = ann.ok("POST", f"{base}/threads", {"title": "All", "body": "course-wide"})
        after = await _drain(stream, cat)
        assert _about(after, course.id, tid) == []
        # control: she is still in the course, and its events still reach her stream
        assert _about(after, course.id, everyone["id"])
    finally:
        stream.close()
    listed = cat.ok("GET", "notifications")
    assert [n for n in listed["notifications"] if n["thread_id"] == tid] == []


async def test_a_stream_whose_token_is_revoked_is_closed(cl_hub: Hub, course: Course) -> None:
    name = course.person("cat").name
    made = cl_hub.admin("POST", f"/users/{name}/tokens", json={"note": "stale stream"}).json()
    url = f"{cl_hub.service_url}api/v1/events".replace("http", "ws", 1)
    conn = await websocket_connect(
        HTTPRequest(url, headers={"Authorization": f"token {made['token']}"})
    )
    try:
        assert json.loads(await asyncio.wait_for(conn.read_message(), 10))["type"] == "hello"
        cl_hub.admin("DELETE", f"/users/{name}/tokens/{made['id']}")
        # the stream checks its identity every quarter of the identity period (1 s here)
        while (message := await asyncio.wait_for(conn.read_message(), 15)) is not None:
            assert json.loads(message).get("course") is None, message
        assert conn.close_code == 1008
    finally:
        conn.close()
