"""Which browser origins may call the service from another origin: cohort workspaces only.

With per-user origins (``cohortlab.origins``) a cohort workspace's JupyterLab runs on the
workspace account's origin and talks to the service directly with the member's own OAuth
cookie (docs/cohort-workspace.md): a credentialed cross-origin fetch, a sign-in frame and an
event stream. Those three paths are opened to exactly the workspaces' origins, computed
from the hub's ``cohortlab-workspaces`` group, never reflected from the request: a learner's
own server serves whatever the learner writes, so its origin (or any origin not derived from
a workspace account) must never get the visitor's session with the service. Without
subdomains everything is one origin and nothing here allows anything.

Pure functions of the group list and the request's headers, so the rules are tested without
HTTP (tests/unit/test_service_cors.py); the base handler only applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..cohorts.manage import ACCOUNT_PREFIX, WORKSPACES_GROUP
from ..origins import Origins

#: What the lab client's direct fetches use (``labextension/src/client.ts``), nothing more.
ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = ("Content-Type", "X-XSRFToken")
#: Seconds a browser may reuse a preflight's answer (Chrome caps it at 7200).
PREFLIGHT_MAX_AGE = 600

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def serialized(origin: str) -> str:
    """``origin`` as a browser sends it in ``Origin``: lowercase, no default port.

    ``Origins`` keeps an explicit port from ``subdomain_host`` (``https://hub.example.edu:443``)
    that a browser would leave out, and an exact comparison must not fail on that.
    """
    parts = urlsplit(origin)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port != _DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{port}"


def workspace_origins(origins: Origins, groups: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The origins of cohort workspace accounts (empty without subdomains).

    An account counts only when it is in the workspaces group *and* has the workspace
    prefix, which the hub refuses for logins: a person added to the group by mistake still
    does not open the service to their own server's origin.
    """
    if not origins.enabled:
        return frozenset()
    return frozenset(
        serialized(origins.user(name))
        for name in groups.get(WORKSPACES_GROUP, ())
        if name.startswith(ACCOUNT_PREFIX)
    )


def allowed_origin(origin: str | None, allowed: frozenset[str]) -> str | None:
    """``origin`` when it is exactly one of ``allowed``, else None (``null``, absent, any
    look-alike: the comparison is on the whole string, never a prefix or suffix)."""
    if not origin or origin not in allowed:
        return None
    return origin


def response_headers(origin: str) -> dict[str, str]:
    """CORS headers for a response to an allowed ``origin`` (its answer may be read)."""
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
    }


def preflight_headers(
    origin: str | None,
    allowed: frozenset[str],
    method: str | None,
    request_headers: str | None,
) -> dict[str, str] | None:
    """The answer to a preflight, or None to refuse it.

    Refused unless the origin is allowed, the method is one the client uses and every
    requested header is one the client sends.
    """
    exact = allowed_origin(origin, allowed)
    if exact is None or (method or "").upper() not in ALLOWED_METHODS:
        return None
    asked = {h.strip().lower() for h in (request_headers or "").split(",") if h.strip()}
    if not asked <= {h.lower() for h in ALLOWED_HEADERS}:
        return None
    return {
        **response_headers(exact),
        "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
        "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
    }


@dataclass
class CrossOrigins:
    """The allowed origins, worked out again only when the hub's group list changes.

    ``HubGroups.users()`` returns the same mapping until its next read of the hub, so the
    set is cached on that mapping's identity: no hub call and no recomputation per request.
    """

    origins: Origins
    _key: object = field(default=None, repr=False)
    _allowed: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def enabled(self) -> bool:
        return self.origins.enabled

    def allowed(self, groups: Mapping[str, Iterable[str]]) -> frozenset[str]:
        if groups is not self._key:
            self._allowed = workspace_origins(self.origins, groups)
            self._key = groups
        return self._allowed
