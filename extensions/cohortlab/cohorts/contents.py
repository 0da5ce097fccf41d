"""A cohort workspace's files, read and written through its own server's contents API.

Templates go into workspaces and archive snapshots come out of them through
``/user/<account>/api/contents/...`` behind the hub's proxy, the way a member's JupyterLab
reaches them. Nothing here touches the account's home folder directly, so it works with
any spawner (one machine, or Kubernetes where the files live on a volume only the
workspace's pod mounts), and jupyter_server's own checks apply to every path.

**Whose identity.** The service's role cannot simply hold
``access:servers!group=cohortlab-workspaces``: a single-user server checks a token's
scopes itself and does not resolve group filters (``jupyterhub.services.auth.check_scopes``:
"except for groups -> user"), so such a scope would get 403. Instead the service mints a
token *of the workspace account* (``tokens!group=cohortlab-workspaces``: workspace accounts
only), limited to ``access:servers!server=<account>/``, expiring in a few minutes, and
deletes it when done. The account owns nothing but its workspace.

**A running server.** The contents API needs the server up: :func:`ensure_running` starts
it on demand like "Open cohort workspace" does (it culls itself again when idle).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..errors import APIError
from ..origins import Origins
from .hub import HubCallError, HubClient, hub_refused, q
from .manage import CohortState
from .workspace import MAX_WAIT, start_server, wait_until_ready

log = logging.getLogger(__name__)

#: Lifetime of a workspace token: long enough for one snapshot or template push.
TOKEN_SECONDS = 600


def proxy_url() -> str:
    """Where the service reaches ``/user/...``: ``$COHORTLAB_PROXY_URL`` (the hub config sets
    it), else the origin of ``$JUPYTERHUB_PUBLIC_URL``."""
    url = os.environ.get("COHORTLAB_PROXY_URL", "")
    if not url:
        public = urlparse(os.environ.get("JUPYTERHUB_PUBLIC_URL", ""))
        url = f"{public.scheme}://{public.netloc}" if public.netloc else ""
    if not url:
        raise APIError(
            503,
            "workspace_files_unconfigured",
            "The service does not know where to reach workspace servers: set "
            "COHORTLAB_PROXY_URL in its environment (the hub's public URL, or http://proxy-public "
            "on Kubernetes).",
        )
    return url.rstrip("/")


class WorkspaceCallError(Exception):
    """The workspace server answered with an error (``status`` 599: it could not be reached)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


class WorkspaceFiles:
    """The contents API of one running workspace server, as its account."""

    def __init__(self, base: str, account: str, token: str, timeout: float = 30.0) -> None:
        prefix = os.environ.get("JUPYTERHUB_BASE_URL", "/").rstrip("/")
        self.url = f"{base}{prefix}/user/{q(account)}/api/contents/"
        self.token, self.timeout = token, timeout
        # With per-user origins the proxy routes by host: ask for the workspace's own.
        self.host = Origins.from_env().host_header(account)

    async def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
        req = HTTPRequest(
            self.url + quote(path.strip("/"), safe="/") + (f"?{query}" if query else ""),
            method=method,
            headers={
                "Authorization": f"token {self.token}",
                "Content-Type": "application/json",
                **({"Host": self.host} if self.host else {}),
            },
            body=None if body is None else json.dumps(body),
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            raise WorkspaceCallError(e.code, _message(e)) from None
        except OSError as e:
            raise WorkspaceCallError(
                599, f"the workspace server could not be reached ({e})"
            ) from None
        return json.loads(resp.body) if resp.body else None

    async def get(self, path: str, *, content: bool = True) -> dict[str, Any] | None:
        """The contents model at ``path``; ``None`` when there is nothing there."""
        try:
            return await self.call("GET", path, content="1" if content else "0")
        except WorkspaceCallError as e:
            if e.status == 404:
                return None
            raise

    async def put(self, path: str, model: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PUT", path, model)


def _message(e: HTTPClientError) -> str:
    try:
        return str(json.loads(e.response.body)["message"])  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError, ValueError):
        return str(e.message or e)


async def ensure_running(hub: HubClient, cohort: CohortState, wait: float = MAX_WAIT) -> bool:
    """Start the workspace server if it is not running; whether this call started it.

    A server still starting after ``wait`` seconds is a 503 ``workspace_starting``: the
    caller tries again (every use here is idempotent).
    """
    state, started = await start_server(hub, cohort)
    if state == "starting":
        state = await wait_until_ready(hub, cohort, wait)
    if state != "ready":
        raise APIError(
            503,
            "workspace_starting",
            f"The workspace of cohort {cohort.name!r} is still starting; try again in a "
            "few seconds.",
            headers={"Retry-After": "5"},
        )
    return started


@asynccontextmanager
async def workspace_files(
    hub: HubClient, cohort: CohortState, purpose: str
) -> AsyncIterator[WorkspaceFiles]:
    """The workspace's files as its account, with a token made for this use and deleted
    afterwards (it also expires by itself after :data:`TOKEN_SECONDS`)."""
    base = proxy_url()
    try:
        made = await hub.call(
            "POST",
            f"/users/{q(cohort.account)}/tokens",
            {
                "note": f"cohortlab service: {purpose}",
                "expires_in": TOKEN_SECONDS,
                "scopes": [f"access:servers!server={cohort.account}/"],
            },
        )
    except HubCallError as e:
        raise hub_refused(e, f"make a token to reach {cohort.account}'s files") from None
    try:
        yield WorkspaceFiles(base, cohort.account, made["token"])
    finally:
        try:
            await hub.call("DELETE", f"/users/{q(cohort.account)}/tokens/{q(made['id'])}")
        except (HubCallError, APIError) as e:
            log.warning("Could not delete a workspace token of %s: %s", cohort.account, e)


__all__ = [
    "WorkspaceCallError",
    "WorkspaceFiles",
    "ensure_running",
    "proxy_url",
    "workspace_files",
]
