"""The cohort chat (jupyterlab-chat) over the collaboration layer, against the real hub:
made with the workspace, two members chatting with an @mention and a link to a cell,
a message sent under someone else's name put back under its sender, outsiders refused."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from pycrdt import (
    Array,
    Doc,
    Map,
    TransactionEvent,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.helpers.waiting import wait_until, wait_until_async
from tests.integration.test_cohort_workspace import Course


@pytest.fixture(scope="module")
def cohort(course: Course) -> dict:
    course.create(["cat"])  # another cohort of the course
    cohort = course.create(["ann", "bob"])
    status, body = course.open("bob", cohort)
    assert status == 200, body
    return cohort


@pytest.fixture(scope="module")
def chat(course: Course, cohort: dict) -> str:
    token = course.hub.token_for(f"{course.prefix}-ann")
    info = course.hub.api("GET", f"/user/{cohort['account']}/cohortlab/workspace", token).json()
    assert info["chat"] == f"{cohort['name']}-chat.chat"
    return info["chat"]


async def chat_session(course: Course, cohort: dict, path: str, who: str) -> dict:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    resp = await AsyncHTTPClient().fetch(
        HTTPRequest(
            course.hub.at(f"/user/{cohort['account']}/api/collaboration/session/{path}"),
            method="PUT",
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
            body=json.dumps({"format": "text", "type": "chat"}),
            request_timeout=30,
        )
    )
    return json.loads(resp.body)


class ChatClient:
    """One person's copy of the chat document, synced over the room WebSocket."""

    def __init__(self, name: str, ws: WebSocketClientConnection) -> None:
        self.name, self.ws = name, ws
        self.doc = Doc()
        self.doc["messages"] = self.messages = Array()
        self.doc["users"] = self.users = Map()
        self.synced = asyncio.Event()
        self._applying = False
        self.doc.observe(self._on_change)
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, course: Course, cohort: dict, path: str, who: str) -> ChatClient:
        session = await chat_session(course, cohort, path, who)
        url = course.hub.at(
            f"/user/{cohort['account']}/api/collaboration/room/"
            f"text:chat:{session['fileId']}?sessionId={session['sessionId']}"
        ).replace("http", "ws", 1)
        token = course.hub.token_for(f"{course.prefix}-{who}")
        ws = await websocket_connect(
            HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=30)
        )
        client = cls(f"{course.prefix}-{who}", ws)
        await ws.write_message(create_sync_message(client.doc), binary=True)
        await asyncio.wait_for(client.synced.wait(), 30)
        return client

    def _on_change(self, event: TransactionEvent) -> None:
        if not self._applying:
            self.ws.write_message(create_update_message(event.update), binary=True)

    async def _read(self) -> None:
        while (message := await self.ws.read_message()) is not None:
            if isinstance(message, str) or not message or message[0] != YMessageType.SYNC:
                continue
            self._applying = True
            try:
                reply = handle_sync_message(message[1:], self.doc)
            finally:
                self._applying = False
            if reply is not None:
                await self.ws.write_message(reply, binary=True)
            if message[1] == YSyncMessageType.SYNC_STEP2:
                self.synced.set()

    def send(self, body: str, sender: str | None = None, mentions: list[str] = ()) -> str:
        """Post as jupyterlab-chat's client does (the room stamps the time)."""
        mid = str(uuid.uuid4())
        self.messages.append(
            Map(
                {
                    "id": mid,
                    "body": body,
                    "sender": sender or self.name,
                    "time": time.time(),
                    "raw_time": True,
                    "type": "msg",
                    "mentions": list(mentions),
                }
            )
        )
        return mid

    def message(self, mid: str) -> dict | None:
        for m in self.messages:
            if m.get("id") == mid:
                return dict(m)
        return None

    async def wait_for(self, check, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
        await wait_until_async(lambda: check(self), timeout, f"{self.name}: {check!r}")

    def close(self) -> None:
        self.ws.close()
        self._reader.cancel()


async def test_two_members_chat_with_a_mention_and_a_link_to_a_cell(
    course: Course, cohort: dict, chat: str
) -> None:
    ann = await ChatClient.connect(course, cohort, chat, "ann")
    bob = await ChatClient.connect(course, cohort, chat, "bob")
    try:
        # Everyone in the cohort (and its instructors) can be @mentioned from the start.
        assert {ann.name, bob.name, f"{course.prefix}-teach"} <= set(ann.users.keys())
        body = f"@{bob.name} look at [this cell](notes.ipynb#cell-id=c1)"
        mid = ann.send(body, mentions=[bob.name])
        await bob.wait_for(lambda c: c.message(mid) is not None)
        got = bob.message(mid)
        assert got is not None
        assert (got["body"], got["sender"], list(got["mentions"])) == (body, ann.name, [bob.name])
        reply = bob.send("on it")
        await ann.wait_for(lambda c: c.message(reply) is not None)
        # The room keeps it in the file (jupyterlab-chat's format).
        token = course.hub.token_for(f"{course.prefix}-bob")

        def saved_ids() -> set[str]:
            resp = course.hub.api("GET", f"/user/{cohort['account']}/api/contents/{chat}", token)
            saved = json.loads(resp.json()["content"] or "{}")
            return {m["id"] for m in saved.get("messages", [])}

        await asyncio.to_thread(  # in a thread: the clients' readers keep running meanwhile
            wait_until,
            lambda: saved_ids() >= {mid, reply},
            timeout=15,
            interval=0.5,
            what="the room to save the chat",
        )
    finally:
        ann.close()
        bob.close()


async def test_a_message_sent_under_someone_elses_name_is_put_back_under_its_sender(
    course: Course, cohort: dict, chat: str
) -> None:
    ann = await ChatClient.connect(course, cohort, chat, "ann")
    bob = await ChatClient.connect(course, cohort, chat, "bob")
    try:
        mid = bob.send("ann says: I give up", sender=ann.name)
        await ann.wait_for(lambda c: (c.message(mid) or {}).get("sender") == bob.name)
    finally:
        ann.close()
        bob.close()


@pytest.mark.parametrize("who", ["cat", "out"])
async def test_outsiders_cannot_open_the_cohort_chat(
    course: Course, cohort: dict, chat: str, who: str
) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await chat_session(course, cohort, chat, who)
    assert refused.value.code == 403
