"""Each person's own JupyterLab settings and layouts in a workspace.

JupyterLab keeps one set of user settings and saved layouts per server. On a workspace
server that set would be shared by every member: one member turning on, say, trusted
outputs or a keyboard shortcut, or saving a layout that opens a page in a frame, would
change what every other member's (and staff's) lab does. So this serves JupyterLab's
settings and layouts API per authenticated person, each from their own folder below the
server's settings and layouts folders (which are in the server's state folder, outside the
account's home and hidden from members' code: ``sandbox.py``).

Like ``rooms.install``, it swaps the target of JupyterLab's own routes for subclasses
(tornado's routing rules); nothing else changes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from jupyterlab_server.settings_handler import SettingsHandler
from jupyterlab_server.workspaces_handler import WorkspacesHandler, WorkspacesManager
from tornado import web

from .routing import swap_handlers

PEOPLE = "people"
_PLAIN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def person_folder(base: str | Path, name: str) -> Path:
    """``base/people/<name>``: the name itself when it is plain, else a digest of it."""
    plain = _PLAIN.fullmatch(name) and name not in (".", "..")
    part = name if plain else "u-" + hashlib.sha256(name.encode()).hexdigest()[:32]
    return Path(base) / PEOPLE / part


def _person(handler: Any) -> str:
    user = getattr(handler, "current_user", None)
    name = getattr(user, "username", None) if user is not None else None
    if not name:
        raise web.HTTPError(403, "Sign in to use this workspace.")
    return str(name)


class PersonalSettingsHandler(SettingsHandler):
    """JupyterLab's settings API, reading and writing the signed-in person's own folder."""

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self._finished:
            return
        self.settings_dir = str(person_folder(self.settings_dir, _person(self)))


class PersonalWorkspacesHandler(WorkspacesHandler):
    """JupyterLab's saved layouts API, per signed-in person."""

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self._finished:
            return
        base = self.manager.workspaces_dir
        self.manager = WorkspacesManager(str(person_folder(base, _person(self))))


SWAPS = {SettingsHandler: PersonalSettingsHandler, WorkspacesHandler: PersonalWorkspacesHandler}


def install(web_app: Any) -> int:
    """Serve JupyterLab's settings and layouts per person; how many routes were changed."""
    return swap_handlers(web_app, SWAPS)
