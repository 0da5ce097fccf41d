"""Opening a cohort's workspace: its collaboration account's server, started on demand.

A member (or an instructor of the course) asks to open the workspace; the service, with
its own hub token (``start:servers``/``read:servers`` filtered to the
``cohortlab-workspaces`` group, so it can start no one else's server), makes sure the
caller holds their share, asks the hub to start the server and says where it is:

- ``ready``: the server answers at ``url`` (``/user/<account>/lab``);
- ``starting``: the hub is still spawning it; call again (with ``wait``) to follow it.

Starting goes through ``POST /users/<account>/server`` even when the hub believes the
server runs: the hub then polls the process and, if it died, notices at once and starts
it again, so a crashed workspace is revived by the next "Open" instead of answering with
the proxy's error page. Waiting follows the hub's own progress stream
(``/users/<account>/server/progress``): one connection, and the hub's failure message
when the spawn fails, which the panel shows with a "Start it" retry (a 503).

Culling idle workspaces is not done here: the hub's spawn hook
(``cohorts.hubhooks.prepare_workspace_server``) has every workspace server shut itself
down when idle (docs/cohorts.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..access import Caller
from ..errors import APIError
from ..origins import Origins
from .hub import HubCallError, HubClient, hub_refused, load_cohort, q, shares, sync
from .manage import CohortState, require_active, require_view

log = logging.getLogger(__name__)

#: The longest a caller may ask the service to wait for the server in one request: below
#: the relay's 30 s request timeout, and a cold start takes 5-8 s on one machine.
MAX_WAIT = 25.0

State = Literal["ready", "starting"]


def open_options(data: Mapping[str, Any] | None) -> float:
    """Check an open body ``{"wait": seconds}`` (optional); the seconds to wait."""
    if not data:
        return 0.0
    extra = sorted(set(data) - {"wait"})
    if extra:
        raise APIError(400, "unknown_field", f"Unknown field(s): {', '.join(extra)}.")
    wait = data.get("wait", 0)
    if (
        isinstance(wait, bool)
        or not isinstance(wait, int | float)
        or not math.isfinite(wait)
        or not 0 <= wait <= MAX_WAIT
    ):
        raise APIError(
            400,
            "invalid_field",
            f"'wait' is how many seconds to wait for the workspace: a number from 0 to "
            f"{MAX_WAIT:g}.",
        )
    return float(wait)


def require_opener(caller: Caller, cohort: CohortState) -> None:
    """Members and the course's instructors open the workspace (they hold its shares).

    A learner of another cohort gets the same 404 as for a cohort that does not exist;
    a mentor who is not a member sees the cohort but may not enter it (403).
    """
    require_view(caller, cohort)
    if caller.name not in cohort.members and caller.role != "instructor":
        raise APIError(
            403,
            "members_only",
            f"Only members of cohort {cohort.name!r} and the instructors of {cohort.course} "
            "can open its workspace.",
        )
    require_active(cohort, "be opened")


@dataclass(frozen=True)
class Workspace:
    cohort: CohortState
    state: State
    url: str
    message: str
    started: bool  # this call asked the hub to start the server

    def to_json(self) -> dict[str, Any]:
        return {
            "course": self.cohort.course,
            "cohort": self.cohort.name,
            "account": self.cohort.account,
            "url": self.url,
            "state": self.state,
            "message": self.message,
            "started": self.started,
        }


def lab_url(account: str, base_url: str | None = None) -> str:
    """The workspace's JupyterLab, as the browser reaches it through the hub's proxy: on the
    account's own origin with per-user origins (a path on the hub's origin otherwise)."""
    base = base_url if base_url is not None else os.environ.get("JUPYTERHUB_BASE_URL", "/")
    return f"{Origins.from_env().user(account)}{base.rstrip('/')}/user/{q(account)}/lab"


async def open_workspace(
    hub: HubClient,
    caller: Caller,
    name: str,
    *,
    wait: float = 0.0,
    base_url: str | None = None,
) -> Workspace:
    """Make sure ``caller`` may enter, start the server if needed, wait up to ``wait`` s."""
    cohort = await load_cohort(hub, caller.course, name)
    require_opener(caller, cohort)
    cohort = await ensure_access(hub, cohort, caller.name)
    state, started = await start_server(hub, cohort)
    if state == "starting" and wait > 0:
        state = await wait_until_ready(hub, cohort, wait)
    url = lab_url(cohort.account, base_url)
    message = (
        f"The workspace of cohort {cohort.name!r} is ready."
        if state == "ready"
        else f"Starting the workspace of cohort {cohort.name!r}…"
    )
    return Workspace(cohort, state, url, message, started)


async def ensure_access(hub: HubClient, cohort: CohortState, user: str) -> CohortState:
    """Sync the cohort when the caller holds no share (or the account does not exist yet).

    Shares follow the group only when it changes through CohortLab; a cohort declared in
    the hub config, a member added in the hub's admin page or a new instructor has none
    until a sync. Opening is when that matters, so it repairs it (idempotently).
    """
    holders, _groups = await shares(hub, cohort.account)
    if user in holders:
        return cohort
    synced = await sync(hub, cohort.course, cohort.name)
    log.info("Opening %s's workspace for %s: synced its shares first", cohort.group, user)
    return synced.cohort


async def start_server(hub: HubClient, cohort: CohortState) -> tuple[State, bool]:
    """Ask the hub to start the workspace server; (state, whether it was started now)."""
    try:
        await hub.call("POST", f"/users/{q(cohort.account)}/server")
    except HubCallError as e:
        if e.status == 400 and "already running" in e.message:
            return "ready", False
        if e.status == 400 and "pending" in e.message:  # being stopped (culled or archived)
            raise APIError(
                503,
                "workspace_stopping",
                f"The workspace of cohort {cohort.name!r} is shutting down; start it again "
                "in a few seconds.",
                headers={"Retry-After": "5"},
            ) from None
        if e.status in (401, 403, 404):
            raise hub_refused(e, f"start {cohort.account}'s server") from None
        raise workspace_failed(cohort, e.message) from None
    model = await hub.find(f"/users/{q(cohort.account)}/server")
    return ("ready" if model and model.get("ready") else "starting"), True


def workspace_failed(cohort: CohortState, reason: str) -> APIError:
    log.warning("The workspace of %s did not start: %s", cohort.group, reason)
    return APIError(
        503,
        "workspace_failed",
        f"The workspace of cohort {cohort.name!r} could not start ({reason}). Start it "
        "again; if it keeps failing, tell an instructor (the hub's log says why).",
    )


async def wait_until_ready(hub: HubClient, cohort: CohortState, wait: float) -> State:
    """Follow the hub's progress stream for up to ``wait`` seconds.

    The hub ends the stream with a ``ready`` or a ``failed`` event; a failure becomes a
    503 carrying the hub's message. Still spawning when ``wait`` runs out: ``starting``.
    """
    events: list[dict[str, Any]] = []
    buffer = bytearray()

    def on_chunk(chunk: bytes) -> None:
        buffer.extend(chunk)
        while b"\n\n" in buffer:
            raw, _, rest = bytes(buffer).partition(b"\n\n")
            buffer[:] = rest
            for line in raw.decode(errors="replace").splitlines():
                if line.startswith("data:"):
                    with contextlib.suppress(ValueError):  # a keepalive or a torn line
                        events.append(json.loads(line[5:]))

    request = HTTPRequest(
        f"{hub.api_url}/users/{q(cohort.account)}/server/progress",
        headers={"Authorization": f"token {hub.api_token}", "Accept": "text/event-stream"},
        streaming_callback=on_chunk,
        request_timeout=wait,
    )
    try:
        await AsyncHTTPClient().fetch(request)
    except HTTPClientError as e:
        if e.code == 599:  # our timeout: still starting
            return "starting"
        if e.code != 400:  # 400: not pending any more (ready or failed before we asked)
            raise hub_refused(HubCallError(e.code, str(e.message)), "report progress") from None
    except OSError:
        raise APIError(
            503, "hub_unavailable", "JupyterHub could not be reached; try again shortly."
        ) from None
    for event in reversed(events):
        if event.get("ready"):
            return "ready"
        if event.get("failed"):
            raise workspace_failed(cohort, str(event.get("message") or "the spawn failed"))
    model = await hub.find(f"/users/{q(cohort.account)}/server")
    if model and model.get("ready"):
        return "ready"
    if model and model.get("pending") == "spawn":
        return "starting"
    raise workspace_failed(cohort, "JupyterHub reports it stopped while starting")


__all__ = [
    "MAX_WAIT",
    "Workspace",
    "ensure_access",
    "lab_url",
    "open_options",
    "open_workspace",
    "require_opener",
    "start_server",
    "wait_until_ready",
]
