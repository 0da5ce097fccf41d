"""The per-user event stream (WebSocket) and a ping that echoes through it.

Each connection receives only the events addressed to its authenticated user, and of
those only the ones about courses and cohorts the user is still in (``service/stream_access``);
the first frame is ``{"type": "hello", "user": <name>}`` so clients know the
stream is live. ``POST events/ping`` publishes a ``pong`` to the caller's own
stream through the bus — the round trip a client or a test uses to check that
live updates reach it (through PostgreSQL NOTIFY when that is the database).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from tornado import web, websocket
from tornado.ioloop import IOLoop

from ...errors import APIError
from ..base import BaseHandler
from ..permissions import allow, person
from ..stream_access import StreamAccess
from ..stream_slots import give_back, take_slot

PING_INTERVAL_MS = 25_000
#: events one stream holds while its identity is being checked again (the rest: dropped,
#: clients catch up when they next read)
HELD_EVENTS = 1000


_last: tuple[dict[str, Any] | None, str] = (None, "")


def _encoded(event: dict[str, Any]) -> str:
    """The event as JSON, encoded once for all its recipients (a live quiz's results go to
    a thousand sockets at once; the bus hands each the same dict)."""
    global _last
    if _last[0] is not event:
        _last = (event, json.dumps(event, separators=(",", ":")))
    return _last[1]


class EventsHandler(BaseHandler, websocket.WebSocketHandler):
    _unsubscribe = None
    _access: StreamAccess | None = None
    _allowed_origins: frozenset[str] = frozenset()

    @allow(person)
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # check_origin is synchronous: the cohort workspaces' origins are looked up here.
        self._allowed_origins = await self.allowed_origins()
        # one of the person's few stream slots (429 past Limits.streams), back when it closes
        self._slot = await take_slot(self.settings, self.hub_user["name"])
        try:
            await websocket.WebSocketHandler.get(self, *args, **kwargs)
        finally:
            if self.ws_connection is None:  # refused (origin) or failed before opening
                self._release_slot()

    _slot: int | None = None

    def _release_slot(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            IOLoop.current().spawn_callback(give_back, self.settings, slot)

    def check_origin(self, origin: str) -> bool:
        """The service's own origin and cohort workspaces' (whose members' lab sessions use
        this stream with their own cookie); no other page may open a socket as its visitor.
        Clients that send no Origin (the relay, with a token) are not checked by tornado."""
        return self.is_own_origin(origin) or origin in self._allowed_origins

    def get_compression_options(self) -> dict[str, Any] | None:
        return None

    def open(self, *args: Any, **kwargs: Any) -> None:
        name = self.hub_user["name"]
        # the identity is checked again on every event and while the stream is open
        auth = self.hub_auth
        self._access = StreamAccess(
            auth,
            self.settings["hub_groups"],
            auth.get_token(self) or "",
            auth.get_session_id(self),
            self.hub_user,
            on_lost=lambda: self.close(1008, "no longer signed in"),
            on_known=self._hand_over_held,
        )
        self._access.start()
        self._unsubscribe = self.settings["bus"].subscribe(name, self._send)
        self.settings["sockets"].add(self)
        self.write_message(json.dumps({"type": "hello", "user": name}))

    _held: list[dict[str, Any]] | None = None

    def _send(self, event: dict[str, Any]) -> None:
        verdict = True if self._access is None else self._access.allows(event)
        if verdict is None:  # no fresh identity yet: hand it over once the hub has answered
            if self._held is None:
                self._held = []
            if len(self._held) < HELD_EVENTS:
                self._held.append(event)
            return
        if not verdict:
            return  # removed from the course or cohort since the stream opened
        try:
            self.write_message(_encoded(event))
        except websocket.WebSocketClosedError:
            self.on_close()

    def _hand_over_held(self) -> None:
        held, self._held = self._held, None
        for event in held or ():
            self._send(event)

    def on_message(self, message: str | bytes) -> None:
        # The stream is server-to-client; client frames are ignored (keep-alives).
        return None

    def on_close(self) -> None:
        if self._access is not None:
            self._access.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.settings["sockets"].discard(self)
        self._release_slot()


class PingHandler(BaseHandler):
    @allow(person)
    async def post(self) -> None:
        token = self.get_argument("token", None) or secrets.token_hex(8)
        if len(token) > 64:
            raise APIError(400, "invalid", "token must be at most 64 characters.")
        await self.settings["bus"].publish(
            [self.hub_user["name"]], {"type": "pong", "token": token}
        )
        self.write_json({"sent": True, "token": token}, status=202)


default_handlers: list[tuple[str, type[web.RequestHandler]]] = [
    (r"api/v1/events", EventsHandler),
    (r"api/v1/events/ping", PingHandler),
]
