"""The kernel provisioner ``cohortlab-sandbox`` (entry point group
``jupyter_client.kernel_provisioners``), named by a kernelspec's
``metadata.kernel_provisioner``.

A sandboxed kernel has no network, so it cannot listen on TCP ports its server reaches. This
provisioner is jupyter_client's :class:`LocalProvisioner` with ZMQ's ``ipc`` transport: the
kernel's five sockets are Unix sockets in a fresh folder of the server's user (mode 0700,
under the temporary folder, with a short path: Unix socket paths are limited to about 107
bytes). Path sockets work across network namespaces (abstract ones would not); the launcher
mounts the folder into the sandbox at a neutral path. The folder stays through restarts
(same sockets, same connection file) and is removed when the kernel is shut down.

With ``wrap`` (the default) it puts ``python -m cohortlab.sandbox`` in front of the
kernelspec's command line, so any kernel runs in the sandbox; the review kernelspec, whose own
command is already the sandbox launcher, sets ``wrap`` to false.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool

from . import plan

NAME = "cohortlab-sandbox"
MAX_SOCKET_PATH = 100


def private_socket_folder() -> str:
    """A new 0700 folder for a kernel's ipc sockets, short enough for their paths."""
    base = tempfile.gettempdir()
    if len(base) > MAX_SOCKET_PATH - 20:
        base = "/tmp"
    return tempfile.mkdtemp(prefix="clk-", dir=base)


class SandboxProvisioner(LocalProvisioner):  # type: ignore[misc]
    """A local kernel over ZMQ ``ipc``, started inside CohortLab's sandbox."""

    wrap = Bool(
        True,
        config=True,
        help="Start the kernelspec's command inside `python -m cohortlab.sandbox` (false "
        "when the command is a sandbox launcher itself, as the review kernel's is).",
    )
    socket_folder: str | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        if self.socket_folder is None:
            self.socket_folder = private_socket_folder()
        km.transport = "ipc"
        km.cache_ports = False
        km.ip = os.path.join(self.socket_folder, plan.IPC_NAME)
        kwargs = await super().pre_launch(**kwargs)
        if self.wrap:
            keep = [a for k in (self.kernel_spec.env or {}) for a in ("--keep", k)]
            kwargs["cmd"] = [
                sys.executable,
                "-m",
                "cohortlab.sandbox",
                "-f",
                km.connection_file,
                *keep,
                "--",
                *kwargs["cmd"],
            ]
        return kwargs

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        if not restart and self.socket_folder:
            shutil.rmtree(self.socket_folder, ignore_errors=True)
            self.socket_folder = None

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        info["socket_folder"] = self.socket_folder
        return info

    async def load_provisioner_info(self, provisioner_info: dict[str, Any]) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.socket_folder = provisioner_info.get("socket_folder")
