"""Where each part of the hub lives as a browser sees it: one origin per person and service.

With JupyterHub's ``subdomain_host`` (CohortLab's default, ``hub_config/jupyterhub_config.py``)
ada's server is ``http://ada.hub.localhost:8000``, the service
``http://cohortlab--service.hub.localhost:8000`` and the hub ``http://hub.localhost:8000``.
Pages a learner's server serves then run on the learner's own origin and can use nobody
else's cookies. The service needs the mapping in three places: the exact origins allowed to
call it from a browser (cohort workspaces: CORS, the sign-in frame, the event stream's
origin check), and the host to ask for when it reaches a workspace's server through the
proxy.

The names come from JupyterHub's own subdomain hook (``jupyterhub.utils``; ``idna`` is the
hub's default), so they agree with the hub's routes by construction. Set by the hub config in
the service's and servers' environment as ``$COHORTLAB_SUBDOMAIN_HOST``; empty means one
origin for everything (the service then allows no cross-origin caller at all).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

from jupyterhub.utils import subdomain_hook_idna, subdomain_hook_legacy

HOOKS = {"idna": subdomain_hook_idna, "legacy": subdomain_hook_legacy}


@dataclass(frozen=True)
class Origins:
    """Origins of users' servers and services under ``subdomain_host`` ("" = one origin)."""

    subdomain_host: str = ""
    hook: str = "idna"

    @classmethod
    def from_env(cls) -> Origins:
        return cls(
            os.environ.get("COHORTLAB_SUBDOMAIN_HOST", "").rstrip("/"),
            os.environ.get("COHORTLAB_SUBDOMAIN_HOOK", "idna"),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.subdomain_host)

    def _origin(self, name: str, kind: str) -> str:
        if not self.enabled:
            return ""
        parsed = urlparse(self.subdomain_host)
        domain = HOOKS[self.hook](name, parsed.hostname or "", kind)
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{domain}{port}"

    def user(self, name: str) -> str:
        """``scheme://host[:port]`` of ``name``'s servers ("" without subdomains)."""
        return self._origin(name, "user")

    def service(self, name: str) -> str:
        """``scheme://host[:port]`` of the service ``name`` ("" without subdomains)."""
        return self._origin(name, "service")

    def host_header(self, name: str) -> str:
        """The Host header the proxy routes to ``name``'s servers ("" without subdomains)."""
        origin = self.user(name)
        return urlparse(origin).netloc if origin else ""
