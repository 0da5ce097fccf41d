"""The relay in a learner's real server: relay → service → hub, and what it refuses."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_ada_server(cl_hub: Hub) -> Hub:
    cl_hub.start_server("ada")
    return cl_hub


def test_relay_answers_as_the_servers_owner(cl_ada_server: Hub) -> None:
    hub = cl_ada_server
    resp = hub.api("GET", "/user/ada/cohortlab/api/v1/me", hub.token_for("ada"))
    assert resp.status_code == 200
    me = resp.json()
    assert me["name"] == "ada"
    assert me["courses"] == [{"id": "demo101", "role": "learner", "roles": ["learner"]}]
    assert me["cohorts"] == [{"course": "demo101", "name": "red", "group": "cohort-demo101-red"}]


def test_relay_config_tells_the_client_how_to_talk(cl_ada_server: Hub) -> None:
    hub = cl_ada_server
    config = hub.api("GET", "/user/ada/cohortlab/config", hub.token_for("ada")).json()
    assert config["mode"] == "relay"
    assert config["hub_user"] == "ada"
    assert config["service_url"] == hub.service_url


def test_relay_passes_the_services_error_body_through_unchanged(cl_ada_server: Hub) -> None:
    hub = cl_ada_server
    direct = hub.api("GET", "/services/cohortlab/api/v1/nowhere", hub.token_for("ada"))
    relayed = hub.api("GET", "/user/ada/cohortlab/api/v1/nowhere", hub.token_for("ada"))
    assert relayed.status_code == direct.status_code == 404
    assert relayed.json() == {
        "error": {
            "code": "not_found",
            "message": "No CohortLab endpoint at /services/cohortlab/api/v1/nowhere.",
        }
    }
    assert relayed.json() == direct.json()


def test_another_learner_cannot_use_adas_relay(cl_ada_server: Hub) -> None:
    hub = cl_ada_server
    resp = hub.api(
        "GET", "/user/ada/cohortlab/api/v1/me", hub.token_for("ben"), allow_redirects=False
    )
    assert resp.status_code in (403, 404)
    assert "ada" not in resp.text or resp.status_code == 403


def test_relay_without_a_token_is_refused(cl_ada_server: Hub) -> None:
    resp = cl_ada_server.api("GET", "/user/ada/cohortlab/api/v1/me", allow_redirects=False)
    assert resp.status_code in (302, 401, 403)
    assert '"name"' not in resp.text


async def test_relay_carries_the_event_stream(cl_ada_server: Hub) -> None:
    hub = cl_ada_server
    token = hub.token_for("ada")
    url = hub.at("/user/ada/cohortlab/api/v1/events").replace("http", "ws", 1)
    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    try:
        hello = json.loads(await asyncio.wait_for(conn.read_message(), 10))
        assert hello == {"type": "hello", "user": "ada"}
        hub.api(
            "POST",
            "/user/ada/cohortlab/api/v1/events/ping?token=via-relay",
            token,
            headers={"Content-Type": "application/json"},
            data="",
        )
        # the stream also carries ada's other news (earlier tests' quiz scores, ...)
        frame: dict = {}
        while frame.get("type") != "pong":
            frame = json.loads(await asyncio.wait_for(conn.read_message(), 5))
        assert frame == {"type": "pong", "token": "via-relay"}
    finally:
        conn.close()


async def test_relayed_event_stream_refuses_another_learner(cl_ada_server: Hub) -> None:
    hub = cl_ada_server
    url = hub.at("/user/ada/cohortlab/api/v1/events").replace("http", "ws", 1)
    req = HTTPRequest(
        url, headers={"Authorization": f"token {hub.token_for('ben')}"}, follow_redirects=False
    )
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(req)
    assert info.value.code in (403, 404)


async def test_relayed_event_stream_carries_her_courses_events(cl_ada_server: Hub) -> None:
    """The stream checks every course event against the identity it holds now
    (service/stream_access.py); through the relay that is her server's token, whose identity
    carries her groups: her course's news still reaches her lab."""
    hub = cl_ada_server
    token = hub.token_for("ada")
    url = hub.at("/user/ada/cohortlab/api/v1/events").replace("http", "ws", 1)
    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    try:
        assert json.loads(await asyncio.wait_for(conn.read_message(), 10))["type"] == "hello"
        thread = hub.api(
            "POST",
            "/services/cohortlab/api/v1/courses/demo101/threads",
            hub.token_for("ben"),
            json={"title": "Relay", "body": "Does ada hear of this?"},
        ).json()
        hub.api(
            "POST",
            "/user/ada/cohortlab/api/v1/events/ping?token=after-thread",
            token,
            headers={"Content-Type": "application/json"},
            data="",
        )
        seen = []
        while not seen or seen[-1].get("type") != "pong":
            seen.append(json.loads(await asyncio.wait_for(conn.read_message(), 10)))
        assert {"type": "discussion", "action": "created", "course": "demo101"}.items() <= next(
            e for e in seen if e.get("thread_id") == thread["id"]
        ).items()
    finally:
        conn.close()
