"""Attribution of document edits: which authenticated connection delivered each update.

jupyter-collaboration has no hook that sees both a document update and its sender: a
Yjs update carries no user, the room (``pycrdt.websocket.YRoom.serve``) applies each
message with ``handle_sync_message`` and no transaction origin, and its ``on_message``
callback gets the bytes but not the connection. What it does give: each connection is
served by its own asyncio task, which reads the connection's messages through the
handler's async iterator (``YDocWebSocketHandler.__anext__``) and applies them in that
same task, synchronously, so the document's observers run inside it.

So :class:`AttributedYDocWebSocketHandler` (a subclass, no patch) sets a context
variable to the connection's authenticated user each time it hands the room a message.
Context variables are per task: an observer of the notebook's cells then reads the
sender of the update it is seeing, and only that one, however the tasks interleave.
Changes made outside a connection's task (the file loaded or changed on disk, the
server's own writes) see no sender and are not attributed.

The subclass is put in place of jupyter-collaboration's own handler on its route
(tornado's routing rules) when the server starts (``app.py``); nothing else changes.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable
from typing import Any

from jupyter_server_ydoc.handlers import YDocWebSocketHandler
from jupyter_server_ydoc.rooms import DocumentRoom
from jupyter_ydoc import YNotebook

from .attribution import Recorder, cells_touched
from .chat import watch_chat
from .routing import swap_handlers

log = logging.getLogger(__name__)

#: The authenticated user whose message the current connection task is applying.
sender: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cohortlab_sender", default=None
)
ROOM_ROUTE = r"/api/collaboration/room/(.*)"


def user_name(handler: Any) -> str | None:
    user = getattr(handler, "current_user", None)
    return getattr(user, "username", None) if user is not None else None


class AttributedYDocWebSocketHandler(YDocWebSocketHandler):
    """jupyter-collaboration's room WebSocket, telling the room who sent each message."""

    _cl_joined: str | None = None

    @property
    def recorder(self) -> Recorder:
        return self.settings["cohortlab_workspace"]["recorder"]

    async def __anext__(self) -> Any:
        message = await super().__anext__()
        # Runs in the task that serves this connection and applies ``message`` next.
        sender.set(user_name(self))
        return message

    async def open(self, room_id: str) -> None:  # type: ignore[override]
        await super().open(room_id)
        name = user_name(self)
        if name and self.ws_connection is not None:
            self._cl_joined = name
            self.recorder.joined(name)
        try:
            ws = self.settings["cohortlab_workspace"]
            watch(self.room, self.recorder, ws.get("chat_book"), ws.get("account") or "")
        except Exception:  # attribution must never break editing
            log.exception("Could not watch room %s for attribution", room_id)

    def on_close(self) -> None:
        super().on_close()
        if self._cl_joined:
            self.recorder.left(self._cl_joined)
            self._cl_joined = None


def watch(room: Any, recorder: Recorder, book: Any = None, account: str = "") -> None:
    """Record the sender of every edit of a notebook room's cells (once per room); keep a
    chat's messages under their senders (``chat.watch_chat``)."""
    if not isinstance(room, DocumentRoom) or getattr(room, "_cl_watched", False):
        return
    document = getattr(room, "_document", None)
    if type(document).__name__ == "YChat" and hasattr(document, "_ymessages"):
        watch_chat(document, sender, book, account)
        room._cl_watched = True
        return
    if not isinstance(document, YNotebook):
        return
    ycells = document.ycells

    def cell_id(index: int) -> str | None:
        try:
            value = ycells[index].get("id")
        except (IndexError, KeyError, TypeError):
            return None
        return str(value) if value else None

    def on_cells(events: Iterable[Any]) -> None:
        user = sender.get()
        if user is None:
            return
        try:
            path = str(room._file.path)
            for cid in cells_touched(events, cell_id):
                recorder.edited(path, cid, user)
        except Exception:
            log.exception("Attribution failed in room %s", room.room_id)

    ycells.observe_deep(on_cells)
    room._cl_watched = True


def install(web_app: Any) -> int:
    """Serve collaboration rooms with :class:`AttributedYDocWebSocketHandler`.

    Swaps the target of jupyter-collaboration's room rule in tornado's routing table
    (keeping its arguments); returns how many rules were changed (0: not installed).
    """
    return swap_handlers(web_app, {YDocWebSocketHandler: AttributedYDocWebSocketHandler})
