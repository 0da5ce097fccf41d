"""A person editing a notebook over jupyter-collaboration's WebSocket, as JupyterLab does.

``PUT <server>/api/collaboration/session/<path>`` gives the file's id and the server's
session; the room ``<server>/api/collaboration/room/json:notebook:<fileId>`` then speaks
the Yjs sync protocol (pycrdt's ``_sync`` messages): our SYNC_STEP1, the server's
SYNC_STEP2 (we are synced) and its own SYNC_STEP1, then SYNC_UPDATE both ways. Each
client keeps a pycrdt ``Doc`` wrapped in jupyter_ydoc's ``YNotebook``; local edits are
sent as updates, remote ones applied (and not echoed back).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import (
    Doc,
    Text,
    TransactionEvent,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.helpers.hub import on_origin


async def open_session(hub_url: str, account: str, path: str, token: str) -> dict[str, Any]:
    """The collaboration session of one notebook in ``account``'s server."""
    resp = await AsyncHTTPClient().fetch(
        HTTPRequest(
            on_origin(f"{hub_url}/user/{account}/api/collaboration/session/{path}"),
            method="PUT",
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
            body=json.dumps({"format": "json", "type": "notebook"}),
            request_timeout=30,
        )
    )
    return json.loads(resp.body)


class NotebookClient:
    """One person's live copy of a notebook room."""

    def __init__(self, name: str, ws: WebSocketClientConnection) -> None:
        self.name, self.ws = name, ws
        self.doc = Doc()
        self.notebook = YNotebook(self.doc)
        self.synced = asyncio.Event()
        self.changed = asyncio.Event()
        self.last_remote_at = 0.0  # perf_counter of the last remote update applied
        self._applying = False
        self.doc.observe(self._on_change)
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(
        cls, hub_url: str, account: str, path: str, token: str, name: str = ""
    ) -> NotebookClient:
        """Join the room of ``path`` and wait for the first full sync."""
        session = await open_session(hub_url, account, path, token)
        room = f"json:notebook:{session['fileId']}"
        ws_url = on_origin(
            f"{hub_url}/user/{account}/api/collaboration/room/{room}"
            f"?sessionId={session['sessionId']}"
        ).replace("http", "ws", 1)
        ws = await websocket_connect(
            HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}, request_timeout=30)
        )
        client = cls(name, ws)
        await client.ws.write_message(create_sync_message(client.doc), binary=True)
        await asyncio.wait_for(client.synced.wait(), 30)
        await client.wait_for(lambda c: c.notebook.cell_number > 0, 30)
        return client

    def _on_change(self, event: TransactionEvent) -> None:
        if self._applying:
            return
        message = create_update_message(event.update)
        with contextlib.suppress(Exception):
            self.ws.write_message(message, binary=True)

    async def _read(self) -> None:
        while True:
            message = await self.ws.read_message()
            if message is None:
                return
            if isinstance(message, str) or not message or message[0] != YMessageType.SYNC:
                continue  # awareness and the server's JSON messages (save replies)
            self._applying = True
            try:
                reply = handle_sync_message(message[1:], self.doc)
            finally:
                self._applying = False
            if reply is not None:
                await self.ws.write_message(reply, binary=True)
            if message[1] == YSyncMessageType.SYNC_STEP2:
                self.synced.set()
            if message[1] in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
                self.last_remote_at = time.perf_counter()
                self.changed.set()

    def source(self, index: int = 0) -> Text:
        return self.notebook.ycells[index]["source"]

    def text(self, index: int = 0) -> str:
        return str(self.source(index))

    def insert(self, pos: int, text: str, index: int = 0) -> None:
        """Type ``text`` at ``pos`` of cell ``index`` (sent to the room at once)."""
        self.source(index).insert(pos, text)

    def append(self, text: str, index: int = 0) -> None:
        source = self.source(index)
        source.insert(len(source), text)

    async def wait_for(self, check: Callable[[NotebookClient], bool], timeout: float) -> None:
        """Until ``check(self)`` holds after a remote update (or already does)."""
        deadline = time.monotonic() + timeout
        while True:
            self.changed.clear()
            if check(self):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: not true within {timeout} s: {self.text()!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))

    def close(self) -> None:
        self.ws.close()
        self._reader.cancel()
