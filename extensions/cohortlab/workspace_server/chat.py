"""The cohort chat: one ``jupyterlab-chat`` document per workspace, beside its notebooks.

The chat is a ``.chat`` file in the workspace's folder, served by jupyter-collaboration
like any shared document (room ``text:chat:<fileId>``), so it needs no service of its own.
This module

- makes the file when the workspace server starts (:func:`ensure_chat`), with the cohort's
  members and the course's instructors in its ``users``, so everyone can be @mentioned
  before they have opened it (jupyterlab-chat adds people as they connect);
- keeps messages under the name of whoever sent them (:func:`watch_chat`): jupyterlab-chat
  lets each browser write its own ``sender``, and the file is anyone's to edit from a
  kernel, so a member could post as someone else; the room's sender (``rooms.sender``, the
  authenticated connection) is put back instead, and what the file says is checked against
  the server's own record of who sent what (:class:`SenderBook`).

A message links to a notebook cell with jupyterlab-chat's notebook attachments (a path and
cell ids) or with a Markdown link JupyterLab itself follows: ``[cell](path.ipynb#cell-id=<id>)``
(the workspace's lab adds "Copy a chat link to this cell", ``src/cohorts/``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHAT_SUFFIX = ".chat"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def chat_path(cohort: str | None) -> str:
    """The chat file's path in the workspace (relative to its root)."""
    name = _SAFE.sub("-", cohort or "").strip("-.") or "cohort"
    return f"{name}-chat{CHAT_SUFFIX}"


def chat_user(name: str) -> dict[str, Any]:
    """A jupyterlab-chat user entry (the fields of ``jupyter_server.auth.User``)."""
    return {
        "username": name,
        "name": name,
        "display_name": name,
        "initials": name[:1].upper(),
        "color": None,
        "avatar_url": None,
    }


def ensure_chat(root: Path, cohort: str | None, people: Iterable[str]) -> Path:
    """Make the cohort's chat file if missing; add people it does not list yet.

    An existing chat's messages are never touched; a file that is not a chat's JSON is
    left alone (someone renamed something onto it) and a warning logged.
    """
    path = root / chat_path(cohort)
    content: dict[str, Any] = {"messages": [], "users": {}, "attachments": {}, "metadata": {}}
    if path.exists():
        try:
            content = json.loads(path.read_text() or "{}")
        except (OSError, ValueError):
            log.warning("%s is not a chat file; the cohort chat was not set up", path)
            return path
        if not isinstance(content, dict):
            log.warning("%s is not a chat file; the cohort chat was not set up", path)
            return path
    users = content.setdefault("users", {})
    missing = [p for p in people if p and p not in users]
    if path.exists() and not missing:
        return path
    for name in missing:
        users[name] = chat_user(name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content, indent=2))
    tmp.replace(path)
    return path


#: Message keys that do not make what a message says (the server sets the time itself).
NOT_CONTENT = frozenset({"sender", "time", "raw_time"})


def _plain(value: Any) -> Any:
    to_py = getattr(value, "to_py", None)
    return to_py() if callable(to_py) else value


def digest(message: Any) -> str:
    """What a message says (all but who sent it and when), as a hash."""
    content = {k: _plain(v) for k, v in dict(_plain(message)).items() if k not in NOT_CONTENT}
    data = json.dumps(content, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()


@dataclass
class SenderBook:
    """Who sent each message, as this server saw it: message id -> (sender, digest).

    Kept in the server's state folder, out of members' reach (``sandbox.py``), so editing the
    ``.chat`` file (or the collaboration store) between two starts cannot change it."""

    entries: dict[str, tuple[str, str]] = field(default_factory=dict)
    store: Path | None = None

    @classmethod
    def load(cls, store: Path) -> SenderBook:
        book = cls(store=store)
        try:
            data = json.loads(store.read_text(encoding="utf-8"))
            book.entries = {str(k): (str(v[0]), str(v[1])) for k, v in data.items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, IndexError, AttributeError) as e:
            log.warning("CohortLab workspace: chat senders %s not read (%s)", store, e)
        return book

    def claim(self, message_id: str, user: str, message_digest: str) -> None:
        if self.entries.get(message_id) != (user, message_digest):
            self.entries[message_id] = (user, message_digest)
            self.save()

    def sender_of(self, message: Any) -> str | None:
        """The sender this server saw for ``message`` as it stands, else None."""
        entry = self.entries.get(str(message.get("id")))
        return entry[0] if entry and entry[1] == digest(message) else None

    def save(self) -> None:
        if self.store is None:
            return
        try:
            self.store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.store.parent, prefix=".senders-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({k: list(v) for k, v in self.entries.items()}, f)
            os.replace(tmp, self.store)
        except OSError as e:
            log.warning("CohortLab workspace: chat senders not saved (%s)", e)


def unverified_user(account: str) -> dict[str, Any]:
    """The chat user shown for messages no connection of this server sent as they stand."""
    return {**chat_user(account), "display_name": UNVERIFIED_NAME, "initials": "?"}


UNVERIFIED_NAME = "Unverified (changed in the chat file)"


def watch_chat(
    document: Any, sender: Any, book: SenderBook | None = None, account: str = ""
) -> None:
    """Keep every message under the authenticated person who wrote it as it stands.

    - A connection that adds or changes a message makes it that person's (whatever
      ``sender`` its browser wrote), recorded in ``book``.
    - A change no connection made (the file loaded, or changed on disk by someone's code,
      the collaboration store replayed) is checked against ``book``: a message as it was
      sent goes back to its sender; one the book does not know as it stands is shown as
      ``account`` ("Unverified"): the shared account's, nobody's.
    - The ``users`` map gives every name only its own name (a browser or a file cannot
      show one person under another's name).
    """
    ymessages, yusers = document._ymessages, getattr(document, "_yusers", None)
    book = book if book is not None else SenderBook()
    loop = asyncio.get_running_loop()

    def on_messages(events: Iterable[Any]) -> None:
        user = sender.get()
        if user is None:
            loop.call_soon(_verify_all, document, book, account)
            return
        changed = _changed_messages(events, ymessages)
        if changed:
            # Not inside the observer's transaction: change it right after.
            loop.call_soon(_claim, document, changed, user, book)

    def on_users(events: Iterable[Any]) -> None:
        loop.call_soon(_fix_users, document, account)

    ymessages.observe_deep(on_messages)
    if yusers is not None:
        yusers.observe_deep(on_users)
    _verify_all(document, book, account)
    _fix_users(document, account)


def _changed_messages(events: Iterable[Any], ymessages: Any) -> list[Any]:
    """Messages added, or with any key changed, in an ``observe_deep`` batch."""
    found = []
    for event in events:
        path = list(getattr(event, "path", []) or [])
        if not path:
            for op in getattr(event, "delta", []) or []:
                found += [m for m in op.get("insert", []) or [] if hasattr(m, "get")]
        else:
            try:
                found.append(ymessages[path[0]])
            except (IndexError, TypeError):
                continue
    return found


def _claim(document: Any, messages: list[Any], user: str, book: SenderBook) -> None:
    try:
        wrong = [m for m in messages if m.get("sender") != user]
        if wrong:
            with document.ydoc.transaction():
                for message in wrong:
                    message["sender"] = user
            log.warning("A chat message sent as someone else was put back under %s", user)
        for message in messages:
            if message.get("id"):
                book.claim(str(message.get("id")), user, digest(message))
    except Exception:
        log.exception("Could not correct the sender of a chat message")


def _verify_all(document: Any, book: SenderBook, account: str) -> None:
    try:
        changes = []
        for message in list(document._ymessages):
            if not hasattr(message, "get"):
                continue
            expected = book.sender_of(message) or account
            if expected and message.get("sender") != expected:
                changes.append((message, expected))
        if changes:
            with document.ydoc.transaction():
                for message, expected in changes:
                    message["sender"] = expected
            log.warning(
                "%d chat message(s) changed outside the chat were put back under their sender "
                "or marked unverified",
                len(changes),
            )
    except Exception:
        log.exception("Could not check the senders of the chat")


def _fix_users(document: Any, account: str) -> None:
    yusers = getattr(document, "_yusers", None)
    if yusers is None:
        return
    try:
        wanted = {
            name: unverified_user(name) if name == account else chat_user(name)
            for name in list(yusers.keys())
        }
        if account and account not in wanted:
            wanted[account] = unverified_user(account)
        wrong = {k: v for k, v in wanted.items() if _plain(yusers.get(k)) != v}
        if wrong:
            with document.ydoc.transaction():
                for name, entry in wrong.items():
                    yusers[name] = entry
    except Exception:
        log.exception("Could not check the users of the chat")
