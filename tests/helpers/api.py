"""A demo person talking to the real service through the proxy with their own hub token."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.helpers.hub import Hub


class Person:
    def __init__(self, hub: Hub, name: str) -> None:
        self.hub, self.name, self.token = hub, name, hub.token_for(name)

    def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        kwargs: dict[str, Any] = {"params": params} if params else {}
        if body is not None:
            kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
        return self.hub.api(method, f"/services/cohortlab/api/v1/{path}", self.token, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        resp = self.call(method, path, body, **params)
        assert resp.status_code < 300, (
            f"{self.name} {method} {path}: {resp.status_code} {resp.text}"
        )
        return resp.json() if resp.status_code != 204 else None

    def refused(self, status: int, method: str, path: str, body: Any = None, **params: str) -> str:
        """Assert a refusal with a message for a person; the error's code."""
        resp = self.call(method, path, body, **params)
        assert resp.status_code == status, f"{self.name} {method} {path}: {resp.text}"
        error = resp.json()["error"]
        assert error["message"]
        return error["code"]


async def event_stream(hub: Hub, user: str) -> WebSocketClientConnection:
    """``user``'s event stream, straight from the service, once its hello has arrived."""
    url = f"{hub.service_url}api/v1/events".replace("http", "ws", 1)
    conn = await websocket_connect(
        HTTPRequest(url, headers={"Authorization": f"token {hub.token_for(user)}"})
    )
    assert json.loads(await asyncio.wait_for(conn.read_message(), 10))["type"] == "hello"
    return conn
