"""``CohortLabServerExtension``: loaded into every single-user server by the shipped
``jupyter-config/jupyter_server_config.d/cohortlab.json``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Float, Unicode, default

from .._version import __version__
from .handlers import default_handlers
from .review_jobs import default_handlers as review_job_handlers
from .reviews import allow_unsandboxed, harden_server, register_review_kernel
from .reviews import default_handlers as review_handlers


def exclude_home_kernelspecs(serverapp: Any, log: logging.Logger) -> None:
    """With ``Spawner.disable_user_config`` JupyterHub leaves the home out of Jupyter's data
    path, but jupyter_client still adds IPython's ``~/.ipython/kernels`` to the kernelspec
    folders: a kernelspec there (with a ``kernel.js`` the server serves to the lab) would
    still change what the person's server offers. Drop every kernelspec folder in the home."""
    if not os.environ.get("JUPYTERHUB_DISABLE_USER_CONFIG"):
        return
    ksm = getattr(serverapp, "kernel_spec_manager", None)
    if ksm is None:
        return
    home = Path.home().resolve()
    kept = [d for d in ksm.kernel_dirs if not Path(d).resolve().is_relative_to(home)]
    if kept != list(ksm.kernel_dirs):
        log.info("CohortLab: no kernelspecs from %s (user configuration is off)", home)
        ksm.kernel_dirs = kept


def kernels_get_user_site() -> None:
    """The hub starts servers without the Python user site (``PYTHONNOUSERSITE``), so a
    ``.pth`` file in ``~/.local`` cannot change what a learner's server serves. The server has
    started by now; kernels, started later from this environment, get the user site back, so
    ``pip install --user`` in a notebook works as people expect (workspace kernels: see
    ``workspace_server.kernels``)."""
    os.environ.pop("PYTHONNOUSERSITE", None)


class CohortLabServerExtension(ExtensionApp):
    name = "cohortlab"
    description = "Relay the JupyterLab extension's calls to the CohortLab hub service."
    load_other_extensions = True

    service_url = Unicode(
        help="Where this server reaches the CohortLab service, inside the deployment "
        "(not through the browser). Default $COHORTLAB_SERVICE_URL, set by the hub config.",
    ).tag(config=True)
    public_service_url = Unicode(
        help="The service's URL as the browser sees it (for direct mode): on its own origin "
        "with per-user origins. Default $COHORTLAB_PUBLIC_SERVICE_URL (set by the hub config), "
        "else <JUPYTERHUB_BASE_URL>services/cohortlab/ on this server's origin.",
    ).tag(config=True)
    mode = Enum(
        ["relay", "direct"],
        help="How the lab extension talks to the service. 'relay' goes through this server "
        "with its owner's hub token; 'direct' uses the person's own OAuth session and must be "
        "used on servers shared by several people (cohort workspaces), so nothing is "
        "attributed to the server's owner. Default $COHORTLAB_CLIENT_MODE or 'relay'.",
    ).tag(config=True)
    request_timeout = Float(30.0, help="Seconds to wait for the service.").tag(config=True)
    harden_process = Bool(
        True,
        help="Make this server's process non-dumpable (prctl PR_SET_DUMPABLE 0) so code running "
        "as the same Unix user (a peer's code in a review kernel) cannot read its environment "
        "and hub token from /proc. Kernels are separate processes and are not affected.",
    ).tag(config=True)

    review_kernel_without_namespaces = Bool(
        False,
        help="Let a peer's code run in the review kernel on a host that refuses unprivileged "
        "user namespaces, with a scrubbed environment only. There, the code could read and "
        "change the reviewer's home (IPython startup files, kernelspecs) and other kernels' "
        "environments, and so act as the reviewer later. Off (the default): on such hosts "
        "the review kernel does not start and reviewers read the copy without running it.",
    ).tag(config=True)

    @default("service_url")
    def _default_service_url(self) -> str:
        return os.environ.get("COHORTLAB_SERVICE_URL", "http://127.0.0.1:10101/services/cohortlab/")

    @default("public_service_url")
    def _default_public_service_url(self) -> str:
        if os.environ.get("COHORTLAB_PUBLIC_SERVICE_URL"):
            return os.environ["COHORTLAB_PUBLIC_SERVICE_URL"]
        base = os.environ.get("JUPYTERHUB_BASE_URL", "/")
        return base.rstrip("/") + "/services/cohortlab/"

    @default("mode")
    def _default_mode(self) -> str:
        return os.environ.get("COHORTLAB_CLIENT_MODE", "relay")

    def initialize_settings(self) -> None:
        self.settings.update(
            cohortlab={
                "version": __version__,
                "service_url": self.service_url.rstrip("/") + "/",
                "public_service_url": self.public_service_url,
                "mode": self.mode,
                "owner": os.environ.get("JUPYTERHUB_USER"),
                "token": os.environ.get("JUPYTERHUB_API_TOKEN"),
                "request_timeout": self.request_timeout,
            }
        )
        exclude_home_kernelspecs(self.serverapp, self.log)
        register_review_kernel(self.serverapp, self.log)
        kernels_get_user_site()
        allow_unsandboxed(self.review_kernel_without_namespaces)
        if self.harden_process:
            harden_server(self.log)

    def initialize_handlers(self) -> None:
        self.handlers.extend(default_handlers)
        self.handlers.extend(review_handlers)
        self.handlers.extend(review_job_handlers)
