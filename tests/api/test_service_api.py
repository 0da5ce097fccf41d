"""The service behind its hub (tests/api: the hub API double; tests/integration: the real hub):
identity only from JupyterHub, one error shape."""

from __future__ import annotations

import asyncio
import json

import pytest
from openapi_spec_validator import validate
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.hub import Hub

API_PATHS = ["api/v1", "api/v1/me", "api/v1/openapi.json", "api/v1/events", "api/v1/nowhere"]


def _error(resp) -> dict:  # type: ignore[no-untyped-def]
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    return body["error"]


@pytest.mark.parametrize("path", API_PATHS)
def test_no_token_is_401_in_the_one_error_shape(cl_api_hub: Hub, path: str) -> None:
    resp = cl_api_hub.api("GET", f"/services/cohortlab/{path}")
    assert resp.status_code == 401
    assert _error(resp)["code"] == "not_authenticated"


def test_a_bad_token_is_401(cl_api_hub: Hub) -> None:
    resp = cl_api_hub.api("GET", "/services/cohortlab/api/v1/me", token="not-a-real-token")
    assert resp.status_code == 401
    assert _error(resp)["code"] == "not_authenticated"


def test_version_needs_an_identity_and_reports_the_package_version(cl_api_hub: Hub) -> None:
    from cohortlab import __version__

    resp = cl_api_hub.api("GET", "/services/cohortlab/api/v1", cl_api_hub.token_for("ada"))
    assert resp.json() == {"version": __version__, "api": "v1"}


@pytest.mark.parametrize(
    ("user", "role", "cohorts"),
    [
        ("ada", "learner", ["red"]),
        ("fay", "learner", ["blue"]),
        ("mentor", "mentor", []),
        ("instructor", "instructor", []),
    ],
)
def test_me_reports_course_role_and_cohorts_from_hub_groups(
    cl_api_hub: Hub, user: str, role: str, cohorts: list[str]
) -> None:
    resp = cl_api_hub.api("GET", "/services/cohortlab/api/v1/me", cl_api_hub.token_for(user))
    assert resp.status_code == 200
    me = resp.json()
    assert me["name"] == user
    assert me["courses"] == [{"id": "demo101", "role": role, "roles": [role]}]
    assert [c["name"] for c in me["cohorts"]] == cohorts
    assert all(c["course"] == "demo101" for c in me["cohorts"])


def test_me_is_always_the_token_owner_whatever_the_request_claims(cl_api_hub: Hub) -> None:
    resp = cl_api_hub.api(
        "GET",
        "/services/cohortlab/api/v1/me?user=ben&name=ben",
        cl_api_hub.token_for("ada"),
        headers={"X-Forwarded-User": "ben", "X-Remote-User": "ben"},
    )
    assert resp.json()["name"] == "ada"


def test_a_hub_service_without_access_is_refused(cl_api_hub: Hub) -> None:
    resp = cl_api_hub.api("GET", "/services/cohortlab/api/v1/me", cl_api_hub.admin_token)
    assert resp.status_code == 403
    assert _error(resp)["code"] == "not_allowed"


def test_cohort_with_a_dashed_course_id_parses_through_group_properties(cl_api_hub: Hub) -> None:
    cl_api_hub.admin("POST", "/groups/nbgrader-data-sci", json={"users": ["ben"]})
    cl_api_hub.admin("POST", "/groups/nbgrader-data", json={"users": []})
    cl_api_hub.admin("POST", "/groups/cohort-data-sci-team-a", json={"users": ["ben"]})
    cl_api_hub.admin(
        "PUT",
        "/groups/cohort-data-sci-team-a/properties",
        json={"cohortlab": {"kind": "cohort", "course": "data-sci", "cohort": "team-a"}},
    )
    # Without properties, "cohort-data-sci-x" could be course "data" or "data-sci": skipped.
    cl_api_hub.admin("POST", "/groups/cohort-data-sci-x", json={"users": ["ben"]})
    # A fresh token: the service caches each token's groups for a second.
    token = cl_api_hub.admin("POST", "/users/ben/tokens", json={"note": "fresh"}).json()["token"]
    try:
        me = cl_api_hub.api("GET", "/services/cohortlab/api/v1/me", token).json()
        assert {"id": "data-sci", "role": "learner", "roles": ["learner"]} in me["courses"]
        assert {"course": "data-sci", "name": "team-a", "group": "cohort-data-sci-team-a"} in (
            me["cohorts"]
        )
        assert all(c["group"] != "cohort-data-sci-x" for c in me["cohorts"])
    finally:
        for group in [
            "nbgrader-data-sci",
            "nbgrader-data",
            "cohort-data-sci-team-a",
            "cohort-data-sci-x",
        ]:
            cl_api_hub.admin("DELETE", f"/groups/{group}")


def test_openapi_document_is_served_and_valid(cl_api_hub: Hub) -> None:
    resp = cl_api_hub.api(
        "GET", "/services/cohortlab/api/v1/openapi.json", cl_api_hub.token_for("ada")
    )
    doc = resp.json()
    validate(doc)
    assert doc["servers"] == [{"url": "/services/cohortlab"}]


async def _open_events(cl_api_hub: Hub, user: str):  # type: ignore[no-untyped-def]
    url = f"{cl_api_hub.service_url}api/v1/events".replace("http", "ws", 1)
    req = HTTPRequest(url, headers={"Authorization": f"token {cl_api_hub.token_for(user)}"})
    conn = await websocket_connect(req)
    hello = json.loads(await asyncio.wait_for(conn.read_message(), 10))
    assert hello == {"type": "hello", "user": user}
    return conn


async def test_event_stream_delivers_only_my_own_events(cl_api_hub: Hub) -> None:
    ada = await _open_events(cl_api_hub, "ada")
    ben = await _open_events(cl_api_hub, "ben")
    try:
        resp = cl_api_hub.api(
            "POST",
            "/services/cohortlab/api/v1/events/ping?token=t-ada",
            cl_api_hub.token_for("ada"),
        )
        assert resp.status_code == 202
        # streams also carry the people's other news (earlier tests' quiz scores, ...)
        frame: dict = {}
        while frame.get("type") != "pong":
            frame = json.loads(await asyncio.wait_for(ada.read_message(), 5))
        assert frame == {"type": "pong", "token": "t-ada"}
        seen_by_ben: list[dict] = []
        with pytest.raises(TimeoutError):
            while True:
                seen_by_ben.append(json.loads(await asyncio.wait_for(ben.read_message(), 1)))
        assert all(f.get("type") != "pong" for f in seen_by_ben)
    finally:
        ada.close()
        ben.close()


async def test_event_stream_refuses_a_caller_without_a_token(cl_api_hub: Hub) -> None:
    url = f"{cl_api_hub.service_url}api/v1/events".replace("http", "ws", 1)
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(url)
    assert info.value.code == 401
