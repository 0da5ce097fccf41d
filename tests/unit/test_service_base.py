"""The base handler's failure paths: a hub outage is a clear 503, and a failure to publish
an event after a committed write is logged, never turned into an error."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import pytest
from cohortlab.service.base import BaseHandler
from cohortlab.service.handlers.quizzes import QuizHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer


class DownHub:
    """A hub that cannot be reached."""

    async def get_user(self, handler: Any, sync: bool = False) -> Any:
        raise web.HTTPError(502, "connection refused")


class Hello(BaseHandler):
    async def get(self) -> None:
        self.write_json({"ok": True})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_hub_outage_answers_503_with_a_message() -> None:
    app = web.Application([(r"/", Hello)], hub_auth=DownHub())
    server = HTTPServer(app)
    port = free_port()
    server.listen(port, "127.0.0.1")
    try:
        resp = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/", raise_error=False)
    finally:
        server.stop()
    assert resp.code == 503
    assert json.loads(resp.body)["error"]["code"] == "hub_unavailable"


class BrokenBus:
    async def publish(self, recipients: Any, event: Any) -> None:
        raise ConnectionError("bus down")


class Groups:
    async def users(self) -> dict[str, list[str]]:
        return {"nbgrader-c1": ["ada"]}

    async def properties(self) -> dict[str, dict[str, Any]]:
        return {"nbgrader-c1": {}}


async def test_a_failed_publish_after_a_write_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = QuizHandler.__new__(QuizHandler)
    handler.application = web.Application(bus=BrokenBus(), hub_groups=Groups())  # type: ignore[attr-defined]
    handler.caller = type("C", (), {"course": "c1"})()  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="cohortlab.service"):
        await handler.tell_course({"type": "quiz"})
    assert "Could not publish" in caplog.text
