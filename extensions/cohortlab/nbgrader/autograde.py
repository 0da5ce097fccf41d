"""nbgrader's autograding kernels, in CohortLab's sandbox.

``nbgrader autograde`` runs every learner's submission, from the instructor's terminal or the
formgrader (which runs in the instructor's JupyterLab server process): in an ordinary kernel
that code would run as the instructor, with ``JUPYTERHUB_API_TOKEN`` (which CohortLab accepts
as the instructor), the network, the rest of the course folder and ``gradebook.db``.

nbgrader's :class:`~nbgrader.preprocessors.Execute` hands nbclient a kernel manager class in its
constructor (``AsyncKernelManager``), which config cannot change (a constructor argument wins
over config). :class:`SandboxedExecute` hands it :class:`SandboxedKernelManager`, whose kernel
spec (whatever the notebook's language) names the provisioner ``cohortlab-sandbox``, which
starts the kernelspec's own command inside ``python -m cohortlab.sandbox``. The kernel works in
a private copy of the submission's autograded folder (nbclient starts it there): what it
writes there is gone with it and never reaches the folder; nbgrader, outside the kernel,
reads its outputs and writes the executed notebook and the gradebook as before.

The package's ``etc/jupyter/nbgrader_config.json`` (from ``jupyter-config/``) puts it in
``Autograde.autograde_preprocessors`` in place of ``Execute``, so both the nbgrader commands
and the formgrader (both read nbgrader config from ``jupyter --paths``) use it wherever
CohortLab is installed. Hosts that refuse unprivileged user namespaces get no kernel (the
notebook fails to run and nbgrader says so); an administrator who accepts running learners'
code as the instructor there can set ``Autograde.autograde_preprocessors`` back to nbgrader's.
"""

from __future__ import annotations

import logging
import os
import stat
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute

from ..sandbox.provisioner import NAME


def sandboxed_spec(spec: KernelSpec) -> KernelSpec:
    """``spec`` (changed in place) started by the sandbox provisioner; a spec that already
    names it keeps its own provisioner settings."""
    provisioner = (spec.metadata or {}).get("kernel_provisioner") or {}
    if provisioner.get("provisioner_name") != NAME:
        spec.metadata = {**(spec.metadata or {}), "kernel_provisioner": {"provisioner_name": NAME}}
    return spec


class SandboxedKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """An ``AsyncKernelManager`` whose kernel, of any kernelspec, runs in the sandbox."""

    @property
    def kernel_spec(self) -> KernelSpec | None:
        spec = AsyncKernelManager.kernel_spec.fget(self)  # type: ignore[attr-defined]
        return sandboxed_spec(spec) if spec is not None else None


def remove_planted_entries(folder: str, log: logging.Logger) -> list[str]:
    """Remove every entry under ``folder`` that is neither a regular file nor a folder
    (symbolic links, FIFOs, sockets), without following any; the paths removed.

    nbgrader, as the instructor and outside the sandbox, writes the executed notebook in the
    folder and ``chmod``s every file in it: through a link there (``hw1.ipynb ->
    ~/course/gradebook.db``, ``key -> ~/.ssh/id_rsa``) that would overwrite, or make readable
    to all, a file of the instructor's; a FIFO would hang it. The kernel works on a copy of
    the folder, so it can no longer leave one there; this stays as a second line, cheap.
    Called once the kernel and every process of its sandbox have ended."""
    removed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in [*dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                os.unlink(path)
                removed.append(path)
    for path in removed:
        log.warning("Removed %s, which the submission's code left in its folder", path)
    return removed


class SandboxedExecute(Execute):  # type: ignore[misc]
    """nbgrader's ``Execute``, with kernels in the sandbox; any link or special file in the
    folder, which nbgrader would follow, is removed before nbgrader touches the folder again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
        folder = ((resources or {}).get("metadata") or {}).get("path") or os.getcwd()
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            remove_planted_entries(folder, self.log)
