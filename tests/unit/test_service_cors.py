"""Cross-origin paths stay narrow: only cohort workspaces' origins may call the service from
a browser (CORS, the sign-in frame, the event stream), and nothing at all without subdomains.

The allow-list is tested as pure logic; the HTTP behaviour against the real handlers (base,
session page, event stream) in-process, through JupyterHub's real ``HubOAuth`` code with
the hub's ``/user`` answer stubbed and a fixed group list.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from cohortlab.cohorts.manage import WORKSPACES_GROUP
from cohortlab.events import EventBus
from cohortlab.origins import Origins
from cohortlab.service.base import BaseHandler, NotFoundHandler
from cohortlab.service.cors import (
    CrossOrigins,
    allowed_origin,
    preflight_headers,
    serialized,
    workspace_origins,
)
from cohortlab.service.handlers.events import EventsHandler
from cohortlab.service.handlers.pages import SessionHandler
from cohortlab.service.hubauth import RefreshingHubOAuth
from cohortlab.service.permissions import allow, person
from cohortlab.store.db import connect, session_factory, upgrade
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.websocket import websocket_connect

HUB = "http://hub.localhost:8000"
WORKSPACE = "cohort-demo101-red"
WORKSPACE_ORIGIN = "http://cohort-demo101-red.hub.localhost:8000"
LEARNER_ORIGIN = "http://ada.hub.localhost:8000"
GROUPS = {
    WORKSPACES_GROUP: [WORKSPACE, "ada-added-by-mistake"],
    "cohort-demo101-red": ["ada", "ben"],
}
ACCESS = "access:services!service=cohortlab"
PREFIX = "/services/cohortlab/"

REFUSED = [
    pytest.param(LEARNER_ORIGIN, id="a learner's own server"),
    pytest.param("http://ada-added-by-mistake.hub.localhost:8000", id="a learner in the group"),
    pytest.param(HUB, id="the hub"),
    pytest.param("http://cohort-demo101-red.hub.localhost.evil.test:8000", id="look-alike"),
    pytest.param("http://evil.test/http://cohort-demo101-red.hub.localhost:8000", id="embedded"),
    pytest.param("http://cohort-demo101-red.hub.localhost:8001", id="another port"),
    pytest.param("https://cohort-demo101-red.hub.localhost:8000", id="another scheme"),
    pytest.param("http://cohort-demo101-red.hub.localhost", id="no port"),
    pytest.param("null", id="null"),
    pytest.param("*", id="wildcard"),
    pytest.param("", id="empty"),
    pytest.param(None, id="missing"),
]


# --- The allow-list ----------------------------------------------------------------------


def test_a_cohort_workspaces_origin_is_allowed() -> None:
    allowed = workspace_origins(Origins(HUB), GROUPS)
    assert allowed == {WORKSPACE_ORIGIN}
    assert allowed_origin(WORKSPACE_ORIGIN, allowed) == WORKSPACE_ORIGIN


@pytest.mark.parametrize("origin", REFUSED)
def test_any_other_origin_is_refused(origin: str | None) -> None:
    allowed = workspace_origins(Origins(HUB), GROUPS)
    assert allowed_origin(origin, allowed) is None
    assert preflight_headers(origin, allowed, "POST", "content-type") is None


def test_without_subdomains_no_origin_is_allowed() -> None:
    allowed = workspace_origins(Origins(""), GROUPS)
    assert allowed == frozenset()
    assert allowed_origin(WORKSPACE_ORIGIN, allowed) is None


def test_default_ports_are_left_out_as_browsers_do() -> None:
    assert serialized("https://cohort-x.hub.example.edu:443") == "https://cohort-x.hub.example.edu"
    assert serialized("http://Cohort-X.hub.localhost:8000") == "http://cohort-x.hub.localhost:8000"
    allowed = workspace_origins(
        Origins("https://hub.example.edu:443"), {WORKSPACES_GROUP: [WORKSPACE]}
    )
    assert allowed == {"https://cohort-demo101-red.hub.example.edu"}


def test_a_preflight_allows_only_what_the_client_sends() -> None:
    allowed = frozenset({WORKSPACE_ORIGIN})
    headers = preflight_headers(WORKSPACE_ORIGIN, allowed, "PATCH", "Content-Type, X-XSRFToken")
    assert headers is not None
    assert headers["Access-Control-Allow-Origin"] == WORKSPACE_ORIGIN
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert preflight_headers(WORKSPACE_ORIGIN, allowed, "GET", None) is not None
    assert preflight_headers(WORKSPACE_ORIGIN, allowed, "TRACE", None) is None
    assert preflight_headers(WORKSPACE_ORIGIN, allowed, "GET", "authorization") is None
    assert preflight_headers(WORKSPACE_ORIGIN, allowed, None, None) is None


def test_the_allowed_set_is_worked_out_once_per_read_of_the_hubs_groups() -> None:
    cross = CrossOrigins(Origins(HUB))
    first = cross.allowed(GROUPS)
    assert cross.allowed(GROUPS) is first
    changed = {WORKSPACES_GROUP: ["cohort-demo101-blue"]}
    assert cross.allowed(changed) == {"http://cohort-demo101-blue.hub.localhost:8000"}


# --- The service in-process ----------------------------------------------------------------


class StubHubAuth(RefreshingHubOAuth):
    """JupyterHub's HubOAuth with the hub's ``/user`` answer stubbed: ``<name>-token``."""

    async def _api_request(self, method: str, url: str, /, **kwargs: Any) -> Any:
        token = kwargs["headers"]["Authorization"].removeprefix("token ")
        name = token.removesuffix("-token")
        return {"kind": "user", "name": name, "groups": [], "scopes": [ACCESS]}


class FixedGroups:
    """The hub's groups as ``HubGroups`` gives them: the same mapping until the next read."""

    async def users(self) -> dict[str, list[str]]:
        return GROUPS

    async def properties(self) -> dict[str, dict[str, Any]]:
        return {name: {} for name in GROUPS}


class Hello(BaseHandler):
    @allow(person)
    async def get(self) -> None:
        self.write_json({"name": self.hub_user["name"]})

    @allow(person)
    async def post(self) -> None:
        self.write_json({"posted": True})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


Fetch = Callable[..., Any]


async def _serve(subdomain_host: str) -> AsyncIterator[tuple[Fetch, StubHubAuth, int]]:
    port = free_port()
    folder = tempfile.mkdtemp(prefix="cl-cors-")
    upgrade(f"sqlite:///{folder}/cohortlab.sqlite")
    engine = connect(f"sqlite:///{folder}/cohortlab.sqlite")
    auth = StubHubAuth(
        api_url="http://127.0.0.1:1/hub/api",
        api_token="service-token",
        access_scopes={ACCESS},
        oauth_client_id="service-cohortlab",
        oauth_redirect_uri=f"http://127.0.0.1:{port}{PREFIX}oauth_callback",
        hub_host=HUB,
        base_url=PREFIX,
        cache_max_age=60,
    )
    app = web.Application(
        [
            (PREFIX + "api/v1/hello", Hello),
            (PREFIX + "api/v1/events", EventsHandler),
            (PREFIX + "auth/session", SessionHandler),
        ],
        hub_auth=auth,
        hub_groups=FixedGroups(),
        cross_origins=CrossOrigins(Origins(subdomain_host)),
        bus=EventBus(),
        sockets=set(),
        cookie_secret="x" * 32,
        default_handler_class=NotFoundHandler,
        # the event stream takes a slot in the database (service/stream_slots.py)
        session_factory=session_factory(engine),
        db_executor=ThreadPoolExecutor(max_workers=1),
        replica="test",
    )
    server = HTTPServer(app)
    server.listen(port, "127.0.0.1")

    async def fetch(path: str, **kwargs: Any) -> HTTPResponse:
        kwargs.setdefault("follow_redirects", False)
        return await AsyncHTTPClient().fetch(
            f"http://127.0.0.1:{port}{PREFIX}{path}", raise_error=False, **kwargs
        )

    try:
        yield fetch, auth, port
    finally:
        server.stop()
        app.settings["db_executor"].shutdown(wait=True)
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def cl_service() -> AsyncIterator[tuple[Fetch, StubHubAuth, int]]:
    """The handlers with subdomains (``$COHORTLAB_SUBDOMAIN_HOST`` set)."""
    async for served in _serve(HUB):
        yield served


@pytest.fixture
async def cl_one_origin_service() -> AsyncIterator[tuple[Fetch, StubHubAuth, int]]:
    """The handlers without subdomains (one origin, as before)."""
    async for served in _serve(""):
        yield served


def _cors(resp: HTTPResponse) -> dict[str, str]:
    return {k: v for k, v in resp.headers.get_all() if k.lower().startswith("access-control-")}


def _preflight(origin: str, method: str = "POST") -> dict[str, Any]:
    return {
        "method": "OPTIONS",
        "headers": {
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type,x-xsrftoken",
        },
    }


async def test_a_preflight_from_a_workspace_is_answered_before_authentication(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, _ = cl_service
    resp = await fetch("api/v1/hello", **_preflight(WORKSPACE_ORIGIN))
    assert resp.code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == WORKSPACE_ORIGIN
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "X-XSRFToken" in resp.headers["Access-Control-Allow-Headers"]
    assert "Origin" in resp.headers["Vary"]
    # Any path (an unknown one answers 404 after the preflight, with CORS headers).
    resp = await fetch("api/v1/nothing-here", **_preflight(WORKSPACE_ORIGIN))
    assert resp.code == 204


@pytest.mark.parametrize("origin", [LEARNER_ORIGIN, HUB, "null", "http://evil.test"])
async def test_a_preflight_from_any_other_origin_gets_403_and_no_cors_headers(
    cl_service: tuple[Fetch, StubHubAuth, int], origin: str
) -> None:
    fetch, _, _ = cl_service
    resp = await fetch("api/v1/hello", **_preflight(origin))
    assert resp.code == 403
    assert json.loads(resp.body)["error"]["code"] == "origin_not_allowed"
    assert _cors(resp) == {}


async def test_a_credentialed_call_from_a_workspace_can_be_read_including_its_errors(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, _ = cl_service
    resp = await fetch(
        "api/v1/hello",
        headers={"Origin": WORKSPACE_ORIGIN, "Authorization": "token ben-token"},
    )
    assert resp.code == 200 and json.loads(resp.body) == {"name": "ben"}
    assert _cors(resp) == {
        "Access-Control-Allow-Origin": WORKSPACE_ORIGIN,
        "Access-Control-Allow-Credentials": "true",
    }
    # The client renews its session on 401: it must be able to read that answer too.
    resp = await fetch("api/v1/hello", headers={"Origin": WORKSPACE_ORIGIN})
    assert resp.code == 401
    assert resp.headers["Access-Control-Allow-Origin"] == WORKSPACE_ORIGIN


async def test_a_call_from_a_learners_origin_is_refused_unread_even_with_a_token(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, _ = cl_service
    resp = await fetch(
        "api/v1/hello", headers={"Origin": LEARNER_ORIGIN, "Authorization": "token ada-token"}
    )
    assert resp.code == 403
    assert json.loads(resp.body)["error"]["code"] == "origin_not_allowed"
    assert _cors(resp) == {}


async def test_calls_without_an_origin_or_from_the_service_itself_work_as_before(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, port = cl_service
    token = {"Authorization": "token ada-token"}
    assert (await fetch("api/v1/hello", headers=token)).code == 200  # the relay, kernels
    own = {**token, "Origin": f"http://127.0.0.1:{port}"}
    resp = await fetch("api/v1/hello", method="POST", body="{}", headers=own)
    assert resp.code == 200 and _cors(resp) == {}


async def test_without_subdomains_there_are_no_cors_headers_at_all(
    cl_one_origin_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, _ = cl_one_origin_service
    resp = await fetch("api/v1/hello", **_preflight(WORKSPACE_ORIGIN))
    assert resp.code == 405 and _cors(resp) == {}
    resp = await fetch(
        "api/v1/hello", headers={"Origin": WORKSPACE_ORIGIN, "Authorization": "token ben-token"}
    )
    assert _cors(resp) == {} and "Vary" not in resp.headers


def _session_path(origin: str | None) -> str:
    return "auth/session" + (f"?origin={quote(origin, safe='')}" if origin else "")


async def test_the_session_page_may_be_framed_only_by_the_workspace_that_asks_and_posts_to_it(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, _ = cl_service
    resp = await fetch(
        _session_path(WORKSPACE_ORIGIN), headers={"Authorization": "token ben-token"}
    )
    assert resp.code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert re.search(r"frame-ancestors ([^;]*)", csp).group(1) == WORKSPACE_ORIGIN  # type: ignore[union-attr]
    page = resp.body.decode()
    assert '"session-ready", xsrf: "' in page
    assert page.count(json.dumps(WORKSPACE_ORIGIN)) == 1  # the postMessage target
    assert "window.location.origin" not in page


async def test_the_session_page_without_an_origin_is_framed_only_by_the_service_itself(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, _ = cl_service
    resp = await fetch(_session_path(None), headers={"Authorization": "token ben-token"})
    assert resp.code == 200
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]
    assert "}, window.location.origin);" in resp.body.decode()


@pytest.mark.parametrize(
    "origin",
    [LEARNER_ORIGIN, HUB, "null", "http://cohort-demo101-red.hub.localhost.evil.test:8000"],
)
async def test_the_session_page_refuses_any_other_parent(
    cl_service: tuple[Fetch, StubHubAuth, int], origin: str
) -> None:
    fetch, _, _ = cl_service
    resp = await fetch(_session_path(origin), headers={"Authorization": "token ben-token"})
    assert resp.code == 403
    assert json.loads(resp.body)["error"]["code"] == "origin_not_allowed"
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]


async def test_the_session_page_refuses_a_parent_without_subdomains(
    cl_one_origin_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, _, _ = cl_one_origin_service
    resp = await fetch(_session_path(WORKSPACE_ORIGIN), headers={"Authorization": "token b-token"})
    assert resp.code == 403


async def test_the_sign_in_round_trip_keeps_the_origin(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    fetch, auth, _ = cl_service
    resp = await fetch(_session_path(WORKSPACE_ORIGIN))
    assert resp.code == 302
    login = urlsplit(resp.headers["Location"])
    assert login.netloc == "hub.localhost:8000"
    state = parse_qs(login.query)["state"][0]
    assert auth.get_next_url(state) == PREFIX + _session_path(WORKSPACE_ORIGIN)


async def test_the_xsrf_token_in_the_message_lets_the_workspace_use_the_cookie_session(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    """The whole direct-mode flow: the frame (a navigation, with the OAuth cookie) hands the
    parent the token; a CORS fetch with the cookies and that token is the person's."""
    fetch, auth, _ = cl_service
    oauth = web.create_signed_value("x" * 32, auth.cookie_name, "ben-token").decode()
    frame = await fetch(
        _session_path(WORKSPACE_ORIGIN),
        headers={"Cookie": f"{auth.cookie_name}={oauth}", "Sec-Fetch-Mode": "navigate"},
    )
    assert frame.code == 200
    xsrf = re.search(r'xsrf: "([^"]+)"', frame.body.decode()).group(1)  # type: ignore[union-attr]
    xsrf_cookie = re.search(r"_xsrf=([^;]+)", frame.headers["Set-Cookie"]).group(1)  # type: ignore[union-attr]
    cookies = f"{auth.cookie_name}={oauth}; _xsrf={xsrf_cookie}"
    cors = {"Origin": WORKSPACE_ORIGIN, "Sec-Fetch-Mode": "cors", "Cookie": cookies}
    resp = await fetch("api/v1/hello", headers={**cors, "X-XSRFToken": xsrf})
    assert resp.code == 200 and json.loads(resp.body) == {"name": "ben"}
    assert resp.headers["Access-Control-Allow-Origin"] == WORKSPACE_ORIGIN
    assert (await fetch("api/v1/hello", headers=cors)).code == 401  # no token: no session


async def _socket(port: int, headers: dict[str, str]) -> Any:
    request = HTTPRequest(f"ws://127.0.0.1:{port}{PREFIX}api/v1/events", headers=headers)
    return await websocket_connect(request)


async def test_the_event_stream_opens_for_a_workspace_the_service_and_token_clients(
    cl_service: tuple[Fetch, StubHubAuth, int],
) -> None:
    _, _, port = cl_service
    token = {"Authorization": "token ben-token"}
    for headers in (
        {**token, "Origin": WORKSPACE_ORIGIN},
        {**token, "Origin": f"http://127.0.0.1:{port}"},
        token,  # the relay: a token and no Origin
    ):
        conn = await _socket(port, headers)
        assert json.loads(await conn.read_message()) == {"type": "hello", "user": "ben"}
        conn.close()


@pytest.mark.parametrize("origin", [LEARNER_ORIGIN, HUB, "null", "http://evil.test"])
async def test_the_event_stream_refuses_any_other_origin(
    cl_service: tuple[Fetch, StubHubAuth, int], origin: str
) -> None:
    _, _, port = cl_service
    with pytest.raises(HTTPClientError) as refused:
        await _socket(port, {"Authorization": "token ben-token", "Origin": origin})
    assert refused.value.code == 403


def test_the_event_streams_own_origin_check_allows_exactly_the_workspaces() -> None:
    """Behind the refusal in ``prepare``, ``check_origin`` itself allows nothing more."""
    handler = EventsHandler.__new__(EventsHandler)
    handler.request = type("R", (), {"host": "cohortlab--service.hub.localhost:8000"})()  # type: ignore[assignment]
    handler._allowed_origins = frozenset({WORKSPACE_ORIGIN})
    assert handler.check_origin(WORKSPACE_ORIGIN)
    assert handler.check_origin("http://cohortlab--service.hub.localhost:8000")
    for origin in (LEARNER_ORIGIN, HUB, "null", "http://[", WORKSPACE_ORIGIN + ".evil.test"):
        assert not handler.check_origin(origin), origin
