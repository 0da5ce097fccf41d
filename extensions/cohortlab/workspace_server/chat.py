"""The cohort chat: one ``jupyterlab-chat`` document per workspace, beside its notebooks.

The chat is a ``.chat`` file in the workspace's folder, served by jupyter-collaboration
like any shared document (room ``text:chat:<fileId>``), so it needs no service of its own.
This module

- makes the file when the workspace server starts (:func:`ensure_chat`), with the cohort's
  members and the course's instructors in its ``users``, so everyone can be @mentioned
  before they have opened it (jupyterlab-chat adds people as they connect);
- keeps messages under the name of whoever sent them (:func:`watch_chat`): jupyterlab-chat
  lets each browser write its own ``sender``, so a member could post as someone else; the
  room's sender (``rooms.sender``, the authenticated connection) is put back instead.

A message links to a notebook cell with jupyterlab-chat's notebook attachments (a path and
cell ids) or with a Markdown link JupyterLab itself follows: ``[cell](path.ipynb#cell-id=<id>)``
(the workspace's lab adds "Copy a chat link to this cell", ``src/cohorts/``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterable
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


def watch_chat(document: Any, sender: Any) -> None:
    """Put the connection's user back as ``sender`` of every message it adds or edits."""
    ymessages = document._ymessages

    def on_messages(events: Iterable[Any]) -> None:
        user = sender.get()
        if user is None:
            return
        wrong = [m for m in _changed_messages(events, ymessages) if m.get("sender") != user]
        if wrong:
            # Not inside the observer's transaction: change it right after.
            asyncio.get_running_loop().call_soon(_set_sender, document, wrong, user)

    ymessages.observe_deep(on_messages)


def _changed_messages(events: Iterable[Any], ymessages: Any) -> list[Any]:
    """Messages added, or whose ``sender`` was changed, in an ``observe_deep`` batch."""
    found = []
    for event in events:
        path = list(getattr(event, "path", []) or [])
        if not path:
            for op in getattr(event, "delta", []) or []:
                found += [m for m in op.get("insert", []) or [] if hasattr(m, "get")]
        elif len(path) == 1 and "sender" in (getattr(event, "keys", {}) or {}):
            found.append(ymessages[path[0]])
    return found


def _set_sender(document: Any, messages: list[Any], user: str) -> None:
    try:
        with document.ydoc.transaction():
            for message in messages:
                message["sender"] = user
        log.warning("A chat message sent as someone else was put back under %s", user)
    except Exception:
        log.exception("Could not correct the sender of a chat message")
