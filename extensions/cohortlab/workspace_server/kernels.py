"""Kernels of a workspace: who ran which cell, and no hub token inside them.

- :class:`AttributedKernelConnection` (``ServerApp.kernel_websocket_connection_class``,
  jupyter_server's own extension point) notes the authenticated user of the kernel
  WebSocket that delivered each ``execute_request``, with the cell id JupyterLab puts in
  the request's metadata (``cellId``) and the notebook of the kernel's session.
- :class:`WorkspaceKernelManager` (``MappingKernelManager.kernel_manager_class``) starts
  kernels through the workspace sandbox (``sandbox.py``): without the account's hub
  token, the Python user site or IPython start-up files, in namespaces where neither the
  server's process nor its state folder can be seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

from .attribution import Recorder
from .sandbox import launcher, sandbox_env

log = logging.getLogger(__name__)


def kernel_env(env: Mapping[str, str]) -> dict[str, str]:
    """A workspace kernel's environment: no credential, no Python user site (``sandbox``)."""
    return sandbox_env(env)


class WorkspaceKernelManager(ServerKernelManager):
    """Kernels started through the workspace sandbox (``sandbox.py``): members' code sees
    neither the server's process nor its state, and has no credential of the account."""

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:  # type: ignore[override]
        kw["env"] = kernel_env(kw.get("env") or os.environ)
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        return launcher(cmd, keep=[self.connection_file], parent=os.getpid())


def execute_request(connection: Any, incoming: Any) -> str | None:
    """The cell id of an ``execute_request`` on the shell channel, else None."""
    if connection.subprotocol == "v1.kernel.websocket.jupyter.org":
        channel, parts = deserialize_msg_from_ws_v1(incoming)
        if channel != "shell" or len(parts) < 3:
            return None
        header = connection.session.unpack(parts[0])
        metadata = connection.session.unpack(parts[2])
    else:
        msg = json.loads(incoming) if isinstance(incoming, str | bytes) else incoming
        if msg.get("channel", "shell") != "shell":
            return None
        header, metadata = msg.get("header") or {}, msg.get("metadata") or {}
    if header.get("msg_type") != "execute_request" or not isinstance(metadata, dict):
        return None
    cell_id = metadata.get("cellId")
    return str(cell_id) if cell_id else None


#: Runs being recorded (a reference each, so none is collected before it finishes).
_pending: set[asyncio.Future[None]] = set()


class AttributedKernelConnection(ZMQChannelsWebsocketConnection):
    def handle_incoming_message(self, incoming_msg: str) -> None:
        try:
            cell_id = execute_request(self, incoming_msg)
        except Exception:  # never in the way of the kernel
            log.debug("Could not read a kernel message for attribution", exc_info=True)
            cell_id = None
        if cell_id:
            user = getattr(self.websocket_handler.current_user, "username", None)
            if user:
                task = asyncio.ensure_future(self._record_run(cell_id, user))
                _pending.add(task)
                task.add_done_callback(_pending.discard)
        super().handle_incoming_message(incoming_msg)

    async def _record_run(self, cell_id: str, user: str) -> None:
        settings = self.websocket_handler.settings
        recorder: Recorder | None = settings.get("cohortlab_workspace", {}).get("recorder")
        if recorder is None:
            return
        try:
            session = await settings["session_manager"].get_session(kernel_id=self.kernel_id)
        except Exception:  # no session (a console or a bare kernel): nothing to attribute
            return
        path = str(session.get("path") or "")
        if path:
            recorder.ran(path.removeprefix("RTC:"), cell_id, user)
