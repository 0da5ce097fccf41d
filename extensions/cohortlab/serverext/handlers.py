"""The relay: ``/cohortlab/api/v1/*`` → the service, as this server's owner.

Only the owner of this server may use it (a person with shared access to it
would otherwise act under the owner's name), and only service paths under
``api/v1/`` can be reached: the relay adds the server's hub token, so it must
never be turned into a general proxy. The service's status and body pass
through unchanged, so the client sees the service's own error messages.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web, websocket
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..errors import APIError, error_body
from .jsonapi import JSONAPIHandler
from .notebook_key import NotebookKeyHandler

FORWARD_REQUEST_HEADERS = ("Content-Type", "Accept", "If-Match", "If-None-Match")
FORWARD_RESPONSE_HEADERS = ("Content-Type", "Retry-After", "ETag", "Last-Modified", "Location")
# Percent-encoded dots, slashes and backslashes could climb out of api/v1/.
_UNSAFE = re.compile(r"%2e|%2f|%5c|\\", re.IGNORECASE)
PREFIX = "/cohortlab/api/v1/"


def relay_target(request_path: str, base_url: str) -> str:
    """The service-relative path for a relayed request, refusing anything outside api/v1/."""
    marker = base_url.rstrip("/") + "/cohortlab/api/v1"
    if not request_path.startswith(marker):
        raise APIError(404, "not_found", "Not a CohortLab relay address.")
    rest = request_path[len(marker) :].lstrip("/")
    segments = rest.split("/")
    if _UNSAFE.search(rest) or any(s in (".", "..") for s in segments):
        raise APIError(400, "invalid_path", "The relay only forwards plain paths under api/v1/.")
    return "api/v1/" + rest if rest else "api/v1"


class RelayMixin:
    """Shared checks: the caller is this server's owner and the relay is configured."""

    settings: dict[str, Any]
    current_user: Any

    @property
    def cl(self) -> dict[str, Any]:
        return self.settings["cohortlab"]

    def check_owner(self) -> None:
        cl = self.cl
        if cl["mode"] != "relay":
            raise APIError(
                409,
                "use_direct_mode",
                "This server is shared; CohortLab talks to the service with your own session "
                "here, not through the server.",
            )
        if not cl["token"] or not cl["owner"]:
            raise APIError(
                503,
                "relay_unconfigured",
                "This server was not started by JupyterHub, so it holds no hub token to relay "
                "with.",
            )
        who = getattr(self.current_user, "username", None)
        if who != cl["owner"]:
            raise APIError(
                403,
                "not_owner",
                f"Only {cl['owner']} may use this server's CohortLab relay.",
            )


class ConfigHandler(RelayMixin, APIHandler):
    """What the lab client needs to choose a transport and check versions."""

    @web.authenticated
    def get(self) -> None:
        cl = self.cl
        self.finish(
            {
                "version": cl["version"],
                "mode": cl["mode"],
                "service_url": cl["public_service_url"],
                "hub_user": cl["owner"],
            }
        )


class RelayHandler(RelayMixin, JSONAPIHandler):
    async def _relay(self) -> None:
        self.check_owner()
        cl = self.cl
        target = relay_target(self.request.path, self.base_url)
        query = urlsplit(self.request.uri).query
        url = cl["service_url"] + target + (f"?{query}" if query else "")
        headers = {
            h: self.request.headers[h] for h in FORWARD_REQUEST_HEADERS if h in self.request.headers
        }
        headers["Authorization"] = f"token {cl['token']}"
        method = self.request.method or "GET"
        body = self.request.body if method in ("POST", "PUT", "PATCH") else None
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = b""
        req = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=body,
            request_timeout=cl["request_timeout"],
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req, raise_error=False)
        except OSError as e:
            raise APIError(
                502,
                "service_unreachable",
                f"The CohortLab service could not be reached ({e.strerror or e}). "
                "JupyterLab keeps working; try again later or tell your administrator.",
            ) from None
        if resp.code == 599:
            raise APIError(
                504 if isinstance(resp.error, HTTPClientError) else 502,
                "service_unreachable",
                f"The CohortLab service did not answer ({resp.error}). "
                "JupyterLab keeps working; try again later or tell your administrator.",
            )
        self.set_status(resp.code, resp.reason)
        for name in FORWARD_RESPONSE_HEADERS:
            if name in resp.headers:
                self.set_header(name, resp.headers[name])
        # no body at all for a 204 (tornado refuses even an empty one: a 500 instead)
        self.finish(resp.body or None)

    @web.authenticated
    async def get(self, _path: str = "") -> None:
        await self._relay()

    @web.authenticated
    async def post(self, _path: str = "") -> None:
        await self._relay()

    @web.authenticated
    async def put(self, _path: str = "") -> None:
        await self._relay()

    @web.authenticated
    async def patch(self, _path: str = "") -> None:
        await self._relay()

    @web.authenticated
    async def delete(self, _path: str = "") -> None:
        await self._relay()


class EventsRelayHandler(RelayMixin, WebSocketMixin, websocket.WebSocketHandler, JupyterHandler):
    """Pipes the service's per-user event stream to the browser, as this server's owner."""

    upstream: websocket.WebSocketClientConnection | None = None

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.check_owner()
        except APIError as e:
            self.set_status(e.status_code)
            self.finish(error_body(e.status_code, e))
            return
        url = self.cl["service_url"].replace("http", "ws", 1) + "api/v1/events"
        req = HTTPRequest(
            url, headers={"Authorization": f"token {self.cl['token']}"}, request_timeout=10
        )
        try:
            self.upstream = await websocket.websocket_connect(req)
        except (OSError, HTTPClientError, websocket.WebSocketError) as e:
            status = getattr(e, "code", 502)
            self.set_status(status if 400 <= status < 600 else 502)
            self.finish(
                error_body(
                    502,
                    APIError(
                        502,
                        "service_unreachable",
                        f"The CohortLab event stream could not be reached ({e}).",
                    ),
                )
            )
            return
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        self._pump_task = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        assert self.upstream is not None
        while True:
            msg = await self.upstream.read_message()
            if msg is None:
                self.close(1011, "CohortLab service closed the event stream")
                return
            try:
                await self.write_message(msg)
            except websocket.WebSocketClosedError:
                return

    def on_message(self, message: str | bytes) -> None:
        return None

    def on_close(self) -> None:
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None


default_handlers = [
    (r"/cohortlab/config", ConfigHandler),
    (r"/cohortlab/notebook-key", NotebookKeyHandler),
    (r"/cohortlab/api/v1/events", EventsRelayHandler),
    (r"/cohortlab/api/v1(/.*)?", RelayHandler),
]
