"""``WorkspaceExtension``: loaded on cohort workspace servers only (see ``__init__``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.application import ExtensionApp
from tornado import web

from .attribution import Recorder
from .chat import chat_path, ensure_chat
from .rooms import install


class WorkspaceHandler(APIHandler):
    """What the workspace's lab shows: the cohort, who is here now, and per cell of one
    notebook who last edited and who last ran it (``?path=``)."""

    @web.authenticated
    def get(self) -> None:
        ws = self.settings["cohortlab_workspace"]
        recorder: Recorder = ws["recorder"]
        path = self.get_query_argument("path", "")
        self.finish(
            {
                "course": ws["course"],
                "cohort": ws["cohort"],
                "me": getattr(self.current_user, "username", None),
                "present": recorder.present(),
                "attribution": ws["attribution"],
                "chat": ws["chat"],
                "cells": recorder.notebook(path) if path else {},
            }
        )


class WorkspaceExtension(ExtensionApp):
    name = "cohortlab_workspace"
    description = "Attribution, presence and chat of a CohortLab cohort workspace."
    load_other_extensions = True

    def initialize_settings(self) -> None:
        self.settings.update(
            cohortlab_workspace={
                "recorder": Recorder(),
                "course": os.environ.get("COHORTLAB_WORKSPACE_COURSE"),
                "cohort": os.environ.get("COHORTLAB_WORKSPACE_COHORT"),
                "people": [
                    p for p in os.environ.get("COHORTLAB_WORKSPACE_PEOPLE", "").split(",") if p
                ],
                "attribution": False,
                "chat": None,
            }
        )

    def initialize_handlers(self) -> None:
        self.handlers.append((r"/cohortlab/workspace", WorkspaceHandler))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """After every extension is loaded: serve rooms with the attributing handler."""
        ws = serverapp.web_app.settings["cohortlab_workspace"]
        changed = install(serverapp.web_app)
        ws["attribution"] = changed > 0
        try:
            ensure_chat(Path(serverapp.root_dir), ws["cohort"], ws["people"])
            ws["chat"] = chat_path(ws["cohort"])
        except OSError as e:
            self.log.warning("CohortLab workspace: the cohort chat could not be made: %s", e)
        if changed:
            self.log.info("CohortLab workspace: attributing edits in collaboration rooms")
        else:
            self.log.warning(
                "CohortLab workspace: jupyter-collaboration's room handler was not found; "
                "edits are not attributed"
            )
