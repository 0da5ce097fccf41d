"""The cohort chat file, and messages kept under the name of who sent them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cohortlab.workspace_server.chat import (
    UNVERIFIED_NAME,
    SenderBook,
    chat_path,
    ensure_chat,
    watch_chat,
)
from cohortlab.workspace_server.rooms import sender
from jupyterlab_chat.models import NewMessage
from jupyterlab_chat.ychat import YChat
from pycrdt import Array, Doc, Map

from tests.helpers.waiting import wait_until_async


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


def room_chat() -> tuple[YChat, SenderBook]:
    chat, book = YChat(ydoc=Doc()), SenderBook()
    watch_chat(chat, sender, book)
    return chat, book


async def judged(room: YChat, book: SenderBook, account: str = "") -> None:
    """Until the room has judged what it holds: every message under the sender the book
    has for it as it stands, else ``account`` (what ``watch_chat`` puts right, in a
    callback just after the transaction). Also the signal that a message which needed no
    correction has been looked at: the book holds it."""

    def agree() -> bool:
        messages = [m for m in list(room._ymessages) if hasattr(m, "get")]
        return all(m.get("sender") == (book.sender_of(m) or account) for m in messages)

    await wait_until_async(agree, 5, "the room to judge its messages")


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


async def deliver(room: YChat, book: SenderBook, update: bytes, user: str) -> None:
    async def serve() -> None:
        sender.set(user)  # the connection's authenticated user, as in rooms.py
        room.ydoc.apply_update(update)

    await asyncio.ensure_future(serve())
    await judged(room, book)


async def test_a_message_sent_as_someone_else_is_put_back_under_its_sender() -> None:
    room, book = room_chat()
    ada = copy_of(room)
    before = ada.ydoc.get_state()
    ada.add_message(NewMessage(body="I am ben", sender="ben"))
    await deliver(room, book, ada.ydoc.get_update(before), "ada")
    assert [m.sender for m in room.get_messages()] == ["ada"]


async def test_an_honest_message_and_a_mention_pass_unchanged() -> None:
    room, book = room_chat()
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
    await deliver(room, book, ada.ydoc.get_update(before), "ada")
    (message,) = room.get_messages()
    assert (message.sender, message.mentions) == ("ada", ["ben"])
    # Changing the sender of an existing message later is put back too (once ada has the
    # room's copy: the room stamps each new message with its own time).
    ada.ydoc.apply_update(room.ydoc.get_update(ada.ydoc.get_state()))
    before = ada.ydoc.get_state()
    ada._ymessages[0]["sender"] = "ben"
    await deliver(room, book, ada.ydoc.get_update(before), "ada")
    assert room.get_messages()[0].sender == "ada"


async def loaded_from_file(room: YChat, book: SenderBook, account: str, content: str) -> None:
    """The file changed on disk and the room reloaded it: no connection's task."""

    async def reload() -> None:
        sender.set(None)
        room.set(content)

    await asyncio.ensure_future(reload())
    await judged(room, book, account)


async def test_a_message_changed_in_the_file_shows_under_no_ones_name(tmp_path: Path) -> None:
    book = SenderBook(store=tmp_path / "senders.json")
    room = YChat(ydoc=Doc())
    watch_chat(room, sender, book, "cohort-x-red")
    ada = copy_of(room)
    before = ada.ydoc.get_state()
    with ada.ydoc.transaction():
        for mid, body in (("m1", "see you"), ("m2", "my plan")):
            ada._ymessages.append(Map({"id": mid, "body": body, "sender": "ada", "time": 1.0}))
    await deliver(room, book, ada.ydoc.get_update(before), "ada")
    assert [m.sender for m in room.get_messages()] == ["ada", "ada"]
    assert SenderBook.load(book.store).entries.keys() == {"m1", "m2"}  # kept for next time

    content = json.loads(room.get())
    content["messages"][1]["body"] = "I copied my answers"
    content["messages"].append({"id": "m3", "body": "exam cancelled", "sender": "teach", "time": 2})
    content["users"]["teach"] = {"username": "teach", "display_name": "Your instructor"}
    await loaded_from_file(room, book, "cohort-x-red", json.dumps(content))
    await wait_until_async(
        lambda: room.get_users()["teach"].display_name == "teach", 5, "the users put right"
    )
    assert {m.id: m.sender for m in room.get_messages()} == {
        "m1": "ada",
        "m2": "cohort-x-red",
        "m3": "cohort-x-red",
    }
    users = room.get_users()
    assert users["teach"].display_name == "teach"
    assert users["cohort-x-red"].display_name == UNVERIFIED_NAME

    # a new server reads the book from its state folder and judges the file the same way
    again = YChat(ydoc=Doc())
    again.set(room.get())
    content = json.loads(room.get())
    content["messages"][0]["sender"] = "ben"
    again.set(json.dumps(content))
    watch_chat(again, sender, SenderBook.load(book.store), "cohort-x-red")  # checks at once
    assert again.get_messages()[0].sender == "ada"


async def test_changing_someone_elses_message_makes_it_yours() -> None:
    room, book = room_chat()
    ada = copy_of(room)
    before = ada.ydoc.get_state()
    ada._ymessages.append(Map({"id": "m1", "body": "hello", "sender": "ada", "time": 1.0}))
    await deliver(room, book, ada.ydoc.get_update(before), "ada")
    ben = copy_of(room)
    before = ben.ydoc.get_state()
    ben._ymessages[0]["body"] = "I give up"
    await deliver(room, book, ben.ydoc.get_update(before), "ben")
    (message,) = room.get_messages()
    assert (message.body, message.sender) == ("I give up", "ben")
