"""The server extension's relay, in a real jupyter_server against a stand-in service.

The stand-in is a bare Tornado app: these tests are about the relay (which
paths it forwards, with which credentials, for whom); the real service and hub
are exercised by the integration tests.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from cohortlab.errors import APIError
from cohortlab.serverext.handlers import relay_target
from jupyter_server.auth import User
from tornado import web
from tornado.httpclient import HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from tests.helpers.jupyter_server import *  # noqa: F403

SERVER_TOKEN = "server-owner-hub-token"
T = TypeVar("T")


class EchoHandler(web.RequestHandler):
    def _echo(self, path: str) -> None:
        if path.endswith("missing"):
            self.set_status(404)
            self.set_header("Content-Type", "application/json")
            self.finish({"error": {"code": "not_found", "message": "No such thread."}})
            return
        if path.endswith("gone"):
            self.set_status(204)  # a DELETE's answer: no body
            self.finish()
            return
        if path.endswith("slow-down"):
            self.set_status(429)
            self.set_header("Retry-After", "7")
            self.finish({"error": {"code": "rate_limited", "message": "Wait 7 s."}})
            return
        self.finish(
            {
                "path": path,
                "method": self.request.method,
                "query": self.request.query,
                "authorization": self.request.headers.get("Authorization"),
                "cookie": self.request.headers.get("Cookie"),
                "body": self.request.body.decode(),
            }
        )

    def get(self, path: str) -> None:
        self._echo(path)

    def post(self, path: str) -> None:
        self._echo(path)

    def delete(self, path: str) -> None:
        self._echo(path)


@pytest.fixture
def cl_fake_service(jp_asyncio_loop: Any) -> Iterator[str]:
    """A stand-in service on pytest-jupyter's loop (the one the Jupyter server runs on)."""

    async def start() -> tuple[HTTPServer, int]:
        sock, port = bind_unused_port()
        server = HTTPServer(web.Application([(r"/services/cohortlab/(.*)", EchoHandler)]))
        server.add_sockets([sock])
        return server, port

    server, port = jp_asyncio_loop.run_until_complete(start())
    yield f"http://127.0.0.1:{port}/services/cohortlab/"
    server.stop()


@pytest.fixture
def cl_run(jp_asyncio_loop: Any) -> Callable[[Awaitable[T]], T]:
    """Run a coroutine on the Jupyter server's loop (pytest-asyncio's is a different one)."""
    return jp_asyncio_loop.run_until_complete


@pytest.fixture
def jp_server_config(cl_fake_service: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"cohortlab": True}},
        "CohortLabServerExtension": {"service_url": cl_fake_service},
    }


@pytest.fixture
def cl_relay(jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The relay's settings, as if JupyterHub had started this server for ``ada``.

    Every request with the server's token is ``ada`` (JupyterHub's identity
    provider would say so; the default one names each token request afresh).
    """
    provider = jp_serverapp.identity_provider
    real_get_user = provider.get_user

    async def get_user(handler: Any) -> Any:
        user = await real_get_user(handler)
        return User(username="ada") if user is not None else None

    monkeypatch.setattr(provider, "get_user", get_user)
    settings = jp_serverapp.web_app.settings["cohortlab"]
    settings["token"] = SERVER_TOKEN
    settings["owner"] = "ada"
    return settings


def test_relay_forwards_as_the_owner_with_the_servers_token(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        resp = await jp_fetch("cohortlab", "api", "v1", "me", params={"x": "1"})
        echoed = json.loads(resp.body)
        assert echoed["path"] == "api/v1/me"
        assert echoed["query"] == "x=1"
        assert echoed["authorization"] == f"token {SERVER_TOKEN}"
        assert echoed["cookie"] is None  # the browser's cookies never reach the service

    cl_run(go())


def test_relay_forwards_bodies_of_writes(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        resp = await jp_fetch(
            "cohortlab", "api", "v1", "things", method="POST", body=json.dumps({"a": 1})
        )
        assert json.loads(resp.body)["body"] == '{"a": 1}'

    cl_run(go())


def test_relay_passes_an_empty_204_through(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        resp = await jp_fetch("cohortlab", "api", "v1", "things", "gone", method="DELETE")
        assert resp.code == 204 and resp.body == b""

    cl_run(go())


def test_relay_passes_the_services_errors_through_unchanged(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("cohortlab", "api", "v1", "missing")
        assert info.value.code == 404
        assert json.loads(info.value.response.body) == {
            "error": {"code": "not_found", "message": "No such thread."}
        }
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("cohortlab", "api", "v1", "slow-down")
        assert info.value.code == 429
        assert info.value.response.headers["Retry-After"] == "7"

    cl_run(go())


def test_someone_other_than_the_owner_is_refused(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        cl_relay["owner"] = "somebody-else"
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("cohortlab", "api", "v1", "me")
        assert info.value.code == 403
        assert json.loads(info.value.response.body)["error"]["code"] == "not_owner"

    cl_run(go())


def test_relay_is_off_on_shared_servers(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        cl_relay["mode"] = "direct"
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("cohortlab", "api", "v1", "me")
        assert info.value.code == 409
        assert json.loads(info.value.response.body)["error"]["code"] == "use_direct_mode"
        config = json.loads((await jp_fetch("cohortlab", "config")).body)
        assert config["mode"] == "direct"

    cl_run(go())


def test_a_server_without_a_hub_token_says_so(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        cl_relay["token"] = None
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("cohortlab", "api", "v1", "me")
        assert info.value.code == 503
        assert (
            "not started by JupyterHub" in json.loads(info.value.response.body)["error"]["message"]
        )

    cl_run(go())


def test_unreachable_service_is_a_502_in_the_one_error_shape(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        cl_relay["service_url"] = "http://127.0.0.1:1/services/cohortlab/"
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("cohortlab", "api", "v1", "me")
        assert info.value.code == 502
        body = json.loads(info.value.response.body)
        assert body["error"]["code"] == "service_unreachable"
        assert "JupyterLab keeps working" in body["error"]["message"]

    cl_run(go())


def test_relay_needs_a_jupyter_login(jp_fetch, cl_relay, cl_run) -> None:
    async def go() -> None:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("cohortlab", "api", "v1", "me", headers={"Authorization": ""})
        assert info.value.code in (401, 403)

    cl_run(go())


@pytest.mark.parametrize(
    "path",
    [
        "/cohortlab/api/v1/../../hub/api/users",
        "/cohortlab/api/v1/%2e%2e/%2e%2e/hub/api/users",
        "/cohortlab/api/v1/x%2F..%2F..%2Fhub",
        "/cohortlab/api/v1/x\\..\\y",
        "/cohortlab/api/v1/./me",
    ],
)
def test_relay_never_leaves_api_v1(path: str) -> None:
    with pytest.raises(APIError) as info:
        relay_target(path, "/")
    assert info.value.status_code == 400


def test_relay_target_keeps_plain_paths() -> None:
    assert relay_target("/user/ada/cohortlab/api/v1/me", "/user/ada/") == "api/v1/me"
    assert relay_target("/user/ada/cohortlab/api/v1", "/user/ada/") == "api/v1"
