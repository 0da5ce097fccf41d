"""What a workspace's lab page takes from the account's home: no lab extension.

Every member's code runs as the workspace account, so anything in its home is anyone's to
write. A lab extension there (``~/.local/share/jupyter/labextensions``, the Python user
site's ``share/jupyter/labextensions``) would be served to every member's browser and run
on the hub's origin as each of them. The spawn hook already keeps the account's Jupyter
configuration and Python user site from the server (``cohorts.hubhooks.locked_environment``);
this leaves out lab extensions found in any folder the account can write, and keeps
CohortLab's own plugins on the page whatever a page configuration says.
"""

from __future__ import annotations

import logging
import os
import shlex
import site
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from tornado import web

log = logging.getLogger(__name__)

#: Our lab extension (its plugins are ``cohortlab:...``): the guard of every workspace page.
COHORTLAB = "cohortlab"


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _under(path: Path, folders: Iterable[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def members_can_write(path: str | os.PathLike[str]) -> bool:
    """Whether code run as the account could put files at ``path`` (now or later)."""
    resolved = Path(os.path.abspath(path))
    homes = [Path.home(), Path(jupyter_data_dir()), Path(site.getuserbase())]
    if _under(resolved, [Path(os.path.abspath(h)) for h in homes]):
        return True
    # As root (a container run as root) every folder is writable: judge by the homes only.
    return os.geteuid() != 0 and os.access(_nearest_existing(resolved), os.W_OK)


def lab_apps(serverapp: Any) -> Iterator[Any]:
    """The server's JupyterLab-like applications (JupyterLab, Notebook 7)."""
    for package in serverapp.extension_manager.extensions.values():
        for point in package.extension_points.values():
            app = point.app
            if app is not None and hasattr(app, "labextensions_path"):
                yield app


def drop_writable_lab_extension_paths(serverapp: Any) -> list[str]:
    """Leave the folders members can write out of every lab's extension paths.

    Runs while this extension loads, which is before JupyterLab's (jupyter_server loads
    extensions in the order of their names), so JupyterLab serves and lists extensions
    from the remaining folders only. Returns what was left out.
    """
    dropped: list[str] = []
    for app in lab_apps(serverapp):
        for trait in ("labextensions_path", "extra_labextensions_path"):
            paths = list(getattr(app, trait))
            kept = [p for p in paths if not members_can_write(p)]
            dropped += [p for p in paths if p not in kept]
            setattr(app, trait, kept)
    return dropped


def keep_cohortlab(page_config: dict[str, Any]) -> dict[str, Any]:
    """CohortLab's plugins stay on, and locked in JupyterLab's plugin manager; the page is
    refused if CohortLab's lab extension is not among those the page would load (it keeps
    the workspace's outputs untrusted)."""
    disabled = page_config.get("disabledExtensions") or []
    page_config["disabledExtensions"] = [
        d for d in disabled if d != COHORTLAB and not str(d).startswith(f"{COHORTLAB}:")
    ]
    locked = page_config.get("lockedExtensions") or []
    if COHORTLAB not in locked:
        page_config["lockedExtensions"] = [*locked, COHORTLAB]
    names = {e.get("name") for e in page_config.get("federated_extensions") or []}
    if "federated_extensions" in page_config and COHORTLAB not in names:
        log.error(
            "CohortLab workspace: CohortLab's lab extension is not installed where "
            "members cannot change it; refusing the lab page"
        )
        raise web.HTTPError(
            503,
            reason="CohortLab's JupyterLab extension is missing on this workspace server; "
            "tell your instructor.",
        )
    return page_config


def drop_writable_kernel_dirs(serverapp: Any) -> list[str]:
    """Leave kernelspec folders members can write off the server's kernel path: a kernelspec
    there decides what a kernel started by someone else runs, and its files (``kernel.js``,
    logos, any HTML) are served unsandboxed on the workspace's origin
    (``/kernelspecs/<name>/<file>``). IPython's ``~/.ipython/kernels`` is one of them."""
    ksm = getattr(serverapp, "kernel_spec_manager", None)
    if ksm is None:
        return []
    dirs = list(ksm.kernel_dirs)
    kept = [d for d in dirs if not members_can_write(d)]
    ksm.kernel_dirs = kept
    return [d for d in dirs if d not in kept]


def sandbox_terminals(serverapp: Any) -> list[str]:
    """Start terminals through the workspace sandbox (``sandbox.py``), as kernels are.

    jupyter_server_terminals reads ``ServerApp.terminado_settings['shell_command']`` when it
    loads, after this extension (extensions load in the order of their names); its default
    is ``$SHELL -l``."""
    from .sandbox import launcher

    settings = dict(serverapp.terminado_settings or {})
    shell = settings.get("shell_command")
    if isinstance(shell, str):
        shell = shlex.split(shell)
    if not shell:
        shell = [os.environ.get("SHELL") or "/bin/sh", "-l"]
    if "cohortlab.workspace_server.sandbox" not in shell:
        shell = launcher(shell, parent=os.getpid())
    settings["shell_command"] = shell
    serverapp.terminado_settings = settings
    return shell


def confine_contents(serverapp: Any) -> bool:
    """Serve no file whose real path is outside the workspace's folder.

    Jupyter's file contents manager follows symbolic links, and members' code can make them:
    a link in the shared home to the server's state folder or to ``/proc/self/environ``
    would have the server itself (outside members' sandbox) read its token or state and
    serve them, or write its state, through the contents API and ``/files/``. Every path
    the contents manager resolves (``_get_os_path``, which all its reads and writes use)
    must stay inside its root once links are followed; else 404."""
    cm = getattr(serverapp, "contents_manager", None)
    resolve = getattr(cm, "_get_os_path", None)
    if cm is None or resolve is None or getattr(cm, "_cl_confined", False):
        return False

    def _get_os_path(path: str) -> str:
        os_path = resolve(path)
        root = os.path.realpath(cm.root_dir)
        real = os.path.realpath(os_path)
        if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
            raise web.HTTPError(404, f"{path} is outside the workspace")
        return os_path

    cm._get_os_path = _get_os_path
    cm._cl_confined = True
    return True
