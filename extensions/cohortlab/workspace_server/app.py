"""``WorkspaceExtension``: loaded on cohort workspace servers only (see ``__init__``)."""

from __future__ import annotations

import atexit
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.application import ExtensionApp
from tornado import web
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, default

from . import activity, personal
from .attribution import Recorder
from .chat import SenderBook, chat_path, ensure_chat
from .lockdown import (
    confine_contents,
    drop_writable_kernel_dirs,
    drop_writable_lab_extension_paths,
    keep_cohortlab,
    sandbox_terminals,
)
from .rooms import install

SAVE_EVERY_MS = 1000
ANYWIDGET = "anywidget"


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


def untrusted_widgets(settings: dict[str, Any]) -> None:
    """Take anywidget's own lab extension off the workspace's page (it imports a widget's
    ``_esm``, code from the shared kernel, as soon as the widget's model exists, trusted
    or not); CohortLab's lab extension registers an ``anywidget`` module in its place that
    draws only CohortLab's widgets, from its own bundled code (src/workspaceWidgets.ts).
    ``cohortlabAnywidgetVersion`` is the module version the workspace's kernels ask for."""
    page = settings.setdefault("page_config_data", {})
    page["cohortlabAnywidgetVersion"] = anywidget_version()
    previous = settings.get("page_config_hook")

    def hook(handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
        if previous is not None:
            page_config = previous(handler, page_config)
        page_config = keep_cohortlab(page_config)
        disabled = page_config.get("disabledExtensions") or []
        if ANYWIDGET not in disabled:
            page_config["disabledExtensions"] = [*disabled, ANYWIDGET]
        return page_config

    settings["page_config_hook"] = hook


def anywidget_version() -> str:
    try:
        return version(ANYWIDGET)
    except PackageNotFoundError:
        return "0.0.0"


class WorkspaceExtension(ExtensionApp):
    name = "cohortlab_workspace"
    description = "Attribution, presence and chat of a CohortLab cohort workspace."
    load_other_extensions = True

    untrusted_outputs = Bool(
        help="Keep every notebook of this workspace untrusted in members' browsers: no "
        "output runs JavaScript, an HTML event handler or a widget's own front end. "
        "anywidget's lab extension is turned off on the workspace's page, and CohortLab's "
        "quiz and leaderboard widgets are drawn from the code installed with CohortLab, "
        "never from the kernel. Without it, code one member runs in the shared kernel can "
        "put script in front of the others, which runs on the hub's origin as them "
        "(docs/cohort-workspace.md). "
        "Default: on, unless $COHORTLAB_WORKSPACE_UNTRUSTED_OUTPUTS is 0, false or no.",
    ).tag(config=True)

    @default("untrusted_outputs")
    def _default_untrusted_outputs(self) -> bool:
        flag = os.environ.get("COHORTLAB_WORKSPACE_UNTRUSTED_OUTPUTS", "")
        return flag.strip().lower() not in ("0", "false", "no")

    def initialize_settings(self) -> None:
        dropped = drop_writable_lab_extension_paths(self.serverapp)
        if dropped:
            self.log.info(
                "CohortLab workspace: lab extensions in folders members can write are not "
                "loaded: %s",
                ", ".join(dropped),
            )
        dropped = drop_writable_kernel_dirs(self.serverapp)
        if dropped:
            self.log.info(
                "CohortLab workspace: no kernelspecs from folders members can write: %s",
                ", ".join(dropped),
            )
        sandbox_terminals(self.serverapp)
        if not confine_contents(self.serverapp):
            self.log.warning("CohortLab workspace: files are served without the link check")
        self.settings.update(
            cohortlab_workspace={
                "recorder": Recorder.load(self.record_path()),
                "course": os.environ.get("COHORTLAB_WORKSPACE_COURSE"),
                "cohort": os.environ.get("COHORTLAB_WORKSPACE_COHORT"),
                "people": [
                    p for p in os.environ.get("COHORTLAB_WORKSPACE_PEOPLE", "").split(",") if p
                ],
                "attribution": False,
                "chat": None,
                "chat_book": SenderBook.load(self.record_path().parent / "chat-senders.json"),
                "account": os.environ.get("JUPYTERHUB_USER", ""),
            }
        )

    @staticmethod
    def record_path() -> Path:
        """In the server's data folder: its state folder, outside the shared home and hidden
        from members' code (``cohorts.hubhooks.workspace_environment``, ``sandbox.py``)."""
        return Path(jupyter_data_dir()) / "cohortlab" / "workspace-attribution.json"

    def initialize_handlers(self) -> None:
        self.handlers.append((r"/cohortlab/workspace", WorkspaceHandler))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """After every extension is loaded: serve rooms with the attributing handler."""
        ws = serverapp.web_app.settings["cohortlab_workspace"]
        # read by the lab page (src/untrusted.ts) before any notebook opens
        page = serverapp.web_app.settings.setdefault("page_config_data", {})
        page["cohortlabUntrustedOutputs"] = "true" if self.untrusted_outputs else "false"
        if self.untrusted_outputs:
            untrusted_widgets(serverapp.web_app.settings)
        self._saver = PeriodicCallback(ws["recorder"].save, SAVE_EVERY_MS)
        self._saver.start()
        # The hub stops a server with SIGINT first, which ends jupyter_server's loop with a
        # KeyboardInterrupt and skips its cleanup (stop_extension); the interpreter's exit
        # still runs atexit.
        atexit.register(ws["recorder"].save)
        self._reporter = activity.ActivityReporter(ws["recorder"], ws["course"], ws["cohort"])
        self._reporting = activity.start(self._reporter)
        changed = install(serverapp.web_app)
        ws["attribution"] = changed > 0
        if personal.install(serverapp.web_app) < 2:
            self.log.warning(
                "CohortLab workspace: JupyterLab's settings or layouts routes were not found; "
                "they are not kept per person"
            )
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

    async def stop_extension(self) -> None:
        """The server is stopping (culled, or stopped by the hub): keep the last changes."""
        saver = getattr(self, "_saver", None)
        if saver is not None:
            saver.stop()
        reporting = getattr(self, "_reporting", None)
        if reporting is not None:
            reporting.stop()
            await self._reporter.report()
        ws = self.settings.get("cohortlab_workspace") or {}
        if "recorder" in ws:
            ws["recorder"].save()
