"""Opening a cohort workspace without a hub: who may open it, the open body, how the
hub's answers to a start become ``ready``/``starting`` or a 503 a person can act on, and
following the hub's progress stream (served here by a small Tornado app).

The real hub is exercised by ``tests/integration/test_cohort_workspace.py``; here the
failure paths (a spawn that fails, a server being stopped) are cheap to reach.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cohortlab.access import Caller
from cohortlab.cohorts import workspace as ws
from cohortlab.cohorts.hub import HubCallError, HubClient
from cohortlab.cohorts.manage import CohortState
from cohortlab.errors import APIError
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

COHORT = CohortState("demo101", "red", "cohort-demo101-red", "cohort-demo101-red", False, ("ada",))


def caller(name: str, role: str) -> Caller:
    return Caller(name=name, user_id=1, course="demo101", role=role, cohorts=frozenset())


@pytest.mark.parametrize(
    ("body", "wait"), [(None, 0.0), ({}, 0.0), ({"wait": 0}, 0.0), ({"wait": 25}, 25.0)]
)
def test_the_open_body_is_optional_and_wait_is_bounded(body: Any, wait: float) -> None:
    assert ws.open_options(body) == wait


@pytest.mark.parametrize(
    "body", [{"wait": -1}, {"wait": 25.5}, {"wait": "5"}, {"wait": True}, {"wait": float("nan")}]
)
def test_a_bad_wait_is_400(body: Any) -> None:
    with pytest.raises(APIError) as e:
        ws.open_options(body)
    assert (e.value.status_code, e.value.code) == (400, "invalid_field")


def test_unknown_fields_are_400() -> None:
    with pytest.raises(APIError) as e:
        ws.open_options({"wait": 1, "template": "x"})
    assert e.value.code == "unknown_field"


def test_members_and_instructors_open_others_are_refused_as_the_rules_say() -> None:
    ws.require_opener(caller("ada", "learner"), COHORT)
    ws.require_opener(caller("inst", "instructor"), COHORT)
    with pytest.raises(APIError) as e:
        ws.require_opener(caller("ben", "learner"), COHORT)  # another cohort's learner
    assert (e.value.status_code, e.value.code) == (404, "unknown_cohort")
    with pytest.raises(APIError) as e:
        ws.require_opener(caller("men", "mentor"), COHORT)
    assert (e.value.status_code, e.value.code) == (403, "members_only")
    gone = CohortState("demo101", "red", COHORT.group, COHORT.account, True, ("ada",))
    with pytest.raises(APIError) as e:
        ws.require_opener(caller("ada", "learner"), gone)
    assert (e.value.status_code, e.value.code) == (409, "cohort_archived")


class StartingHub(HubClient):
    """Answers the start call as told, and the server model as ``model``."""

    def __init__(self, error: HubCallError | None, model: dict[str, Any] | None) -> None:
        super().__init__("http://hub.invalid/hub/api", "token")
        self.error, self.model = error, model

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        if self.error is not None:
            raise self.error
        return None

    async def find(self, path: str) -> Any:
        return self.model


@pytest.mark.parametrize(
    ("error", "model", "expected"),
    [
        (None, {"ready": True}, ("ready", True)),
        (None, {"ready": False, "pending": "spawn"}, ("starting", True)),
        (HubCallError(400, "cohort-demo101-red is already running"), None, ("ready", False)),
    ],
)
async def test_the_hubs_answer_to_a_start_becomes_a_state(
    error: HubCallError | None, model: dict[str, Any] | None, expected: tuple[str, bool]
) -> None:
    assert await ws.start_server(StartingHub(error, model), COHORT) == expected


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (HubCallError(400, "cohort-demo101-red is pending stop"), 503, "workspace_stopping"),
        (HubCallError(500, "Spawner failed: no such user"), 503, "workspace_failed"),
        (HubCallError(403, "Action is not authorized"), 502, "hub_error"),
    ],
)
async def test_a_start_the_hub_refuses_is_an_error_that_says_what_to_do(
    error: HubCallError, status: int, code: str
) -> None:
    with pytest.raises(APIError) as e:
        await ws.start_server(StartingHub(error, None), COHORT)
    assert (e.value.status_code, e.value.code) == (status, code)
    assert e.value.message


# --- following the hub's progress stream -------------------------------------------------

EVENTS: dict[str, list[dict[str, Any]] | int] = {}


class ProgressHandler(web.RequestHandler):
    async def get(self, account: str) -> None:
        script = EVENTS[account]
        if isinstance(script, int):
            raise web.HTTPError(script)
        self.set_header("Content-Type", "text/event-stream")
        for event in script:
            if event.get("sleep"):
                # Kept: a hub still spawning, silent for longer than the caller waits, is the
                # case under test (its timer and the caller's run on the same event loop).
                await asyncio.sleep(event["sleep"])
                continue
            self.write(f"data: {json.dumps(event)}\n\n")
            await self.flush()


@pytest.fixture
async def progress_hub() -> AsyncIterator[StartingHub]:
    sock, port = bind_unused_port()
    app = web.Application([(r"/hub/api/users/([^/]+)/server/progress", ProgressHandler)])
    server = HTTPServer(app)
    server.add_sockets([sock])
    hub = StartingHub(None, None)
    hub.api_url = f"http://127.0.0.1:{port}/hub/api"
    try:
        yield hub
    finally:
        server.stop()


def account(name: str) -> CohortState:
    return CohortState("demo101", name, f"cohort-demo101-{name}", f"cohort-{name}", False, ())


async def test_waiting_ends_ready_when_the_hub_says_so(progress_hub: StartingHub) -> None:
    EVENTS["cohort-a"] = [{"progress": 50, "message": "spawning"}, {"ready": True}]
    assert await ws.wait_until_ready(progress_hub, account("a"), 5) == "ready"


async def test_a_failed_spawn_is_a_503_with_the_hubs_message(progress_hub: StartingHub) -> None:
    EVENTS["cohort-b"] = [{"progress": 10}, {"failed": True, "message": "Spawn failed: boom"}]
    with pytest.raises(APIError) as e:
        await ws.wait_until_ready(progress_hub, account("b"), 5)
    assert (e.value.status_code, e.value.code) == (503, "workspace_failed")
    assert "Spawn failed: boom" in e.value.message


async def test_still_spawning_when_the_wait_ends_is_starting(progress_hub: StartingHub) -> None:
    EVENTS["cohort-c"] = [{"progress": 10}, {"sleep": 2}, {"ready": True}]
    assert await ws.wait_until_ready(progress_hub, account("c"), 0.5) == "starting"


@pytest.mark.parametrize(
    ("model", "expected"),
    [({"ready": True}, "ready"), ({"ready": False, "pending": "spawn"}, "starting")],
)
async def test_not_pending_any_more_reads_the_server(
    progress_hub: StartingHub, model: dict[str, Any], expected: str
) -> None:
    EVENTS["cohort-d"] = 400  # the hub: not starting (it became ready before we asked)
    progress_hub.model = model
    assert await ws.wait_until_ready(progress_hub, account("d"), 5) == expected


async def test_a_server_gone_while_starting_is_a_failure(progress_hub: StartingHub) -> None:
    EVENTS["cohort-e"] = 400
    progress_hub.model = None
    with pytest.raises(APIError) as e:
        await ws.wait_until_ready(progress_hub, account("e"), 5)
    assert e.value.code == "workspace_failed"


def test_the_lab_url_is_under_the_hubs_base_url() -> None:
    assert ws.lab_url("cohort-demo101-red", "/") == "/user/cohort-demo101-red/lab"
    assert ws.lab_url("cohort-x", "/jhub/") == "/jhub/user/cohort-x/lab"


def test_the_lab_url_is_on_the_workspaces_own_origin_with_subdomains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COHORTLAB_SUBDOMAIN_HOST", "http://hub.localhost:8000")
    assert (
        ws.lab_url("cohort-demo101-red", "/")
        == "http://cohort-demo101-red.hub.localhost:8000/user/cohort-demo101-red/lab"
    )
