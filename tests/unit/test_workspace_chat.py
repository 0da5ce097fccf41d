"""The cohort chat file, and messages kept under the name of who sent them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cohortlab.workspace_server.chat import chat_path, ensure_chat, watch_chat
from cohortlab.workspace_server.rooms import sender
from jupyterlab_chat.models import NewMessage
from jupyterlab_chat.ychat import YChat
from pycrdt import Array, Doc, Map


def test_the_chat_is_made_once_with_everyone_mentionable(tmp_path: Path) -> None:
    path = ensure_chat(tmp_path, "red", ["ada", "ben"])
    assert path.name == chat_path("red") == "red-chat.chat"
    content = json.loads(path.read_text())
    assert set(content["users"]) == {"ada", "ben"}
    assert content["messages"] == []
    # A later start keeps the messages and adds a new member.
    content["messages"].append({"id": "1", "body": "hi", "sender": "ada", "time": 1.0})
    path.write_text(json.dumps(content))
    ensure_chat(tmp_path, "red", ["ada", "ben", "cy"])
    again = json.loads(path.read_text())
    assert set(again["users"]) == {"ada", "ben", "cy"}
    assert again["messages"][0]["body"] == "hi"


def test_a_file_that_is_not_a_chat_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "red-chat.chat").write_text("not json")
    ensure_chat(tmp_path, "red", ["ada"])
    assert (tmp_path / "red-chat.chat").read_text() == "not json"
    assert chat_path("../x y") == "x-y-chat.chat"
    assert chat_path(None) == "cohort-chat.chat"


def room_chat() -> YChat:
    chat = YChat(ydoc=Doc())
    watch_chat(chat, sender)
    return chat


class Client:
    """A browser's copy of the chat: a plain Yjs document (what a client may send is
    whatever it likes, not what jupyterlab-chat's own client would)."""

    def __init__(self, room: YChat) -> None:
        self.ydoc = Doc()
        self.ydoc["messages"] = self._ymessages = Array()
        self.ydoc.apply_update(room.ydoc.get_update())

    def add_message(self, message: NewMessage) -> None:
        self._ymessages.append(
            Map({"id": "m0", "body": message.body, "sender": message.sender, "time": 1.0})
        )


def copy_of(chat: YChat) -> Client:
    return Client(chat)


async def deliver(room: YChat, update: bytes, user: str) -> None:
    async def serve() -> None:
        sender.set(user)  # the connection's authenticated user, as in rooms.py
        room.ydoc.apply_update(update)

    await asyncio.ensure_future(serve())
    await asyncio.sleep(0.01)  # the correction runs right after the transaction


async def test_a_message_sent_as_someone_else_is_put_back_under_its_sender() -> None:
    room = room_chat()
    ada = copy_of(room)
    before = ada.ydoc.get_state()
    ada.add_message(NewMessage(body="I am ben", sender="ben"))
    await deliver(room, ada.ydoc.get_update(before), "ada")
    assert [m.sender for m in room.get_messages()] == ["ada"]


async def test_an_honest_message_and_a_mention_pass_unchanged() -> None:
    room = room_chat()
    ada = copy_of(room)
    before = ada.ydoc.get_state()
    with ada.ydoc.transaction():
        ada._ymessages.append(
            Map(
                {
                    "id": "m1",
                    "body": "@ben see [cell](nb.ipynb#cell-id=c1)",
                    "sender": "ada",
                    "time": 1.0,
                    "mentions": ["ben"],
                }
            )
        )
    await deliver(room, ada.ydoc.get_update(before), "ada")
    (message,) = room.get_messages()
    assert (message.sender, message.mentions) == ("ada", ["ben"])
    # Changing the sender of an existing message later is put back too (once ada has the
    # room's copy: the room stamps each new message with its own time).
    ada.ydoc.apply_update(room.ydoc.get_update(ada.ydoc.get_state()))
    before = ada.ydoc.get_state()
    ada._ymessages[0]["sender"] = "ben"
    await deliver(room, ada.ydoc.get_update(before), "ada")
    assert room.get_messages()[0].sender == "ada"
