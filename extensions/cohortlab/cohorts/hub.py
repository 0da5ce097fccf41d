"""What cohort management asks JupyterHub, with the service's own token.

The hub holds everything about a cohort: its group (members, and properties naming the
course, cohort, account and whether it is archived), its collaboration account (a hub
user in the ``cohortlab-workspaces`` group) and who may open the account's server (one
JupyterHub share per person). The service stores nothing about cohorts itself, so there is
no second copy to drift; every change reads the hub afresh.

Access follows membership through :func:`sync`, which makes the shares match
:func:`~cohortlab.cohorts.manage.desired_access` and is idempotent: every change ends with
it, and running it again repairs anything a failed call or an edit in the hub's admin page
left behind. Why per-person shares (and not roles or group shares): docs/cohorts.md.

Changes to one cohort are serialised within the process (a lock per group), so two
requests cannot interleave a read of the members with the other's share changes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..courses import course_roles
from ..errors import APIError
from .manage import (
    WORKSPACES_GROUP,
    CohortState,
    NewCohort,
    ShareChanges,
    account_name,
    check_new_member,
    check_removal,
    desired_access,
    group_name,
    require_active,
    share_changes,
    unknown_cohort,
)

log = logging.getLogger(__name__)

#: How long :func:`archive` waits for the workspace server to stop before answering.
STOP_WAIT = 15.0


class HubCallError(Exception):
    """The hub answered a call with an HTTP error; ``message`` is the hub's own."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


def q(name: str) -> str:
    """A name as one path segment (a name cannot reach another hub route)."""
    return quote(name, safe="")


class HubClient:
    """The hub's REST API as the service: JSON in and out, errors as :class:`HubCallError`."""

    def __init__(self, api_url: str, api_token: str, timeout: float = 15.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_token = api_token
        self.timeout = timeout
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, group: str) -> asyncio.Lock:
        return self._locks.setdefault(group, asyncio.Lock())

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        req = HTTPRequest(
            self.api_url + path,
            method=method,
            headers={
                "Authorization": f"token {self.api_token}",
                "Accept": "application/jupyterhub-pagination+json",
                "Content-Type": "application/json",
            },
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,  # DELETE with a body (group members)
            request_timeout=self.timeout,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            raise HubCallError(e.code, _hub_message(e)) from None
        except OSError:
            raise APIError(
                503, "hub_unavailable", "JupyterHub could not be reached; try again shortly."
            ) from None
        return json.loads(resp.body) if resp.body else None

    async def paged(self, path: str) -> list[dict[str, Any]]:
        """Every item of a paginated hub list."""
        items: list[dict[str, Any]] = []
        offset = 0
        sep = "&" if "?" in path else "?"
        while True:
            page = await self.call("GET", f"{path}{sep}{urlencode({'offset': offset})}")
            if isinstance(page, list):  # an old hub without pagination
                return page
            items.extend(page["items"])
            nxt = (page.get("_pagination") or {}).get("next")
            if not nxt:
                return items
            offset = nxt["offset"]

    async def find(self, path: str) -> Any:
        """GET ``path``; ``None`` when the hub says 404."""
        try:
            return await self.call("GET", path)
        except HubCallError as e:
            if e.status == 404:
                return None
            raise


def _hub_message(e: HTTPClientError) -> str:
    try:
        return str(json.loads(e.response.body)["message"])  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError, ValueError):
        return str(e.message or e)


def hub_refused(e: HubCallError, what: str) -> APIError:
    """A hub refusal nobody calling CohortLab can fix: a 502 naming the likely cause."""
    log.warning("JupyterHub refused %s: %s %s", what, e.status, e.message)
    hint = (
        " Check the cohortlab service's role in the hub config (docs/cohorts.md)."
        if e.status == 403
        else ""
    )
    return APIError(
        502, "hub_error", f"JupyterHub refused to {what} ({e.status}: {e.message}).{hint}"
    )


# --- reading -----------------------------------------------------------------------------


async def require_user(hub: HubClient, name: str) -> dict[str, Any]:
    """The hub's model of user ``name``, or a 404 saying there is no such user."""
    model = await hub.find(f"/users/{q(name)}")
    if model is None:
        raise APIError(404, "unknown_user", f"JupyterHub has no user {name!r}.")
    return model


async def instructors(hub: HubClient, course: str) -> list[str]:
    group = await hub.find(f"/groups/{q('formgrade-' + course)}")
    return sorted(group.get("users") or []) if group else []


async def load_cohort(hub: HubClient, course: str, name: str) -> CohortState:
    """The cohort as the hub has it now, or a 404."""
    group = await hub.find(f"/groups/{q(group_name(course, name))}")
    state = CohortState.from_group(group, [course]) if group else None
    if state is None or (state.course, state.name) != (course, name):
        raise unknown_cohort(course, name)
    return state


async def list_cohorts(hub: HubClient, course: str) -> list[CohortState]:
    groups = await hub.paged("/groups")
    known = course_roles(g["name"] for g in groups).keys()
    found = (CohortState.from_group(g, known) for g in groups)
    return sorted((s for s in found if s and s.course == course), key=lambda s: s.name)


async def shares(hub: HubClient, account: str) -> tuple[list[str], list[str]]:
    """(users, groups) holding a share of the account's server; none if it has none yet."""
    try:
        items = await hub.paged(f"/shares/{q(account)}/")
    except HubCallError as e:
        if e.status == 404:  # no such account (or server) yet
            return [], []
        raise
    users = [i["user"]["name"] for i in items if i.get("user")]
    groups = [i["group"]["name"] for i in items if i.get("group")]
    return users, groups


# --- writing -----------------------------------------------------------------------------


async def ensure_workspaces_group(hub: HubClient) -> None:
    try:
        await hub.call("POST", f"/groups/{q(WORKSPACES_GROUP)}")
    except HubCallError as e:
        if e.status != 409:  # 409: it exists, which is what we want
            raise hub_refused(e, f"create the {WORKSPACES_GROUP} group") from None


async def ensure_account(hub: HubClient, cohort: CohortState) -> bool:
    """Make sure the collaboration account exists and is a workspace; True if created.

    Refuses (409) to take over a hub user of that name that is not a CohortLab workspace:
    that would hand a person's server to the cohort. An account this call creates is
    deleted again if it cannot be made a workspace, so it is never left half-made.
    """
    model = await hub.find(f"/users/{q(cohort.account)}")
    if model is not None:
        if WORKSPACES_GROUP in (model.get("groups") or []):
            return False
        raise account_taken(cohort)
    try:
        await hub.call("POST", f"/users/{q(cohort.account)}")
    except HubCallError as e:
        if e.status == 409:
            raise account_taken(cohort) from None
        raise hub_refused(e, f"create the workspace account {cohort.account}") from None
    try:
        await ensure_workspaces_group(hub)
        await hub.call("POST", f"/groups/{q(WORKSPACES_GROUP)}/users", {"users": [cohort.account]})
    except (HubCallError, APIError) as e:
        await _undo(hub, [("DELETE", f"/users/{q(cohort.account)}")])
        if isinstance(e, APIError):
            raise
        raise hub_refused(e, f"add {cohort.account} to {WORKSPACES_GROUP}") from None
    return True


def account_taken(cohort: CohortState) -> APIError:
    return APIError(
        409,
        "account_taken",
        f"JupyterHub already has a user named {cohort.account} that is not a CohortLab "
        f"workspace, so cohort {cohort.name!r} cannot have its workspace account; pick "
        "another cohort name.",
    )


async def apply_shares(hub: HubClient, cohort: CohortState, staff: Iterable[str]) -> ShareChanges:
    """Grant and revoke shares so that exactly the people who should have access do."""
    users, groups = await shares(hub, cohort.account)
    changes = share_changes(desired_access(cohort, staff), users, groups)
    path = f"/shares/{q(cohort.account)}/"
    try:
        # Revoke before granting: a failure half-way leaves too little access, not too much.
        for user in changes.revoke_users:
            await hub.call("PATCH", path, {"user": user})
        for group in changes.revoke_groups:
            await hub.call("PATCH", path, {"group": group})
        for user in changes.grant:
            await hub.call("POST", path, {"user": user})
    except HubCallError as e:
        raise hub_refused(e, f"change who may open {cohort.account}'s server") from None
    if not changes.empty:
        log.info(
            "Cohort %s: granted %s, revoked %s",
            cohort.group,
            list(changes.grant) or "-",
            list(changes.revoke_users + changes.revoke_groups) or "-",
        )
    return changes


@dataclass(frozen=True)
class Synced:
    cohort: CohortState
    staff: list[str]
    changes: ShareChanges
    created_account: bool = False


async def sync(hub: HubClient, course: str, name: str) -> Synced:
    """Reconcile one cohort with the hub's group: account, properties, shares. Idempotent."""
    cohort = await load_cohort(hub, course, name)
    async with hub.lock(cohort.group):
        return await _sync(hub, course, name)


async def _sync(hub: HubClient, course: str, name: str) -> Synced:
    cohort = await load_cohort(hub, course, name)
    created = False
    if not cohort.archived:
        created = await ensure_account(hub, cohort)
        meta = (cohort.properties or {}).get("cohortlab") or {}
        if meta.get("account") != cohort.account or "archived" not in meta:
            await _set_properties(hub, cohort, archived=False)
    staff = await instructors(hub, course)
    changes = await apply_shares(hub, cohort, staff)
    if changes.revoke_users or changes.revoke_groups:
        await rotate_credentials(hub, cohort.account)
    return Synced(cohort, staff, changes, created)


async def _set_properties(hub: HubClient, cohort: CohortState, *, archived: bool) -> None:
    try:
        await hub.call(
            "PUT",
            f"/groups/{q(cohort.group)}/properties",
            cohort.with_properties(archived=archived),
        )
    except HubCallError as e:
        raise hub_refused(e, f"update the properties of {cohort.group}") from None


async def create_cohort(hub: HubClient, course: str, new: NewCohort) -> Synced:
    """Create the group, then the account, then the shares; undo it all if a step fails.

    Members are checked before anything is written. If any later step fails, the account
    (if this call created it) and the group are deleted again, so a failed create leaves
    nothing behind and can simply be retried.
    """
    for member in new.members:
        model = await require_user(hub, member)
        check_new_member(course, member, model.get("groups") or [])
    group, account = group_name(course, new.name), account_name(course, new.name)
    async with hub.lock(group):
        try:
            await hub.call("POST", f"/groups/{q(group)}", {"users": list(new.members)})
        except HubCallError as e:
            if e.status == 409:
                raise APIError(
                    409, "cohort_exists", f"Course {course} already has a cohort {new.name!r}."
                ) from None
            raise hub_refused(e, f"create the group {group}") from None
        cohort = CohortState(course, new.name, group, account, False, new.members)
        created_account = False
        try:
            await _set_properties(hub, cohort, archived=False)
            created_account = await ensure_account(hub, cohort)
            return await _sync(hub, course, new.name)
        except Exception:
            await _undo_create(hub, cohort, created_account)
            raise


async def _undo_create(hub: HubClient, cohort: CohortState, created_account: bool) -> None:
    steps = [("DELETE", f"/groups/{q(cohort.group)}")]
    if created_account:
        steps.insert(0, ("DELETE", f"/users/{q(cohort.account)}"))
    await _undo(hub, steps)


async def _undo(hub: HubClient, steps: list[tuple[str, str]]) -> None:
    """Best effort: a step that fails here is logged, and the original error is reported."""
    for method, path in steps:
        try:
            await hub.call(method, path)
        except (HubCallError, APIError) as e:
            log.error("Could not undo a failed cohort change (%s %s): %s", method, path, e)


async def add_member(hub: HubClient, course: str, name: str, user: str) -> tuple[Synced, bool]:
    """Add ``user`` to the cohort and give them access; (result, whether they were new)."""
    model = await require_user(hub, user)
    cohort = await load_cohort(hub, course, name)
    async with hub.lock(cohort.group):
        cohort = await load_cohort(hub, course, name)
        require_active(cohort, "take new members")
        check_new_member(course, user, model.get("groups") or [])
        added = user not in cohort.members
        if added:
            try:
                await hub.call("POST", f"/groups/{q(cohort.group)}/users", {"users": [user]})
            except HubCallError as e:
                raise hub_refused(e, f"add {user} to {cohort.group}") from None
        return await _sync(hub, course, name), added


async def remove_member(hub: HubClient, course: str, name: str, user: str) -> Synced:
    """Take away ``user``'s access first, then their membership and their places in the
    cohort's teams (failing closed)."""
    model = await require_user(hub, user)
    cohort = await load_cohort(hub, course, name)
    async with hub.lock(cohort.group):
        cohort = await load_cohort(hub, course, name)
        require_active(cohort, "change its members")
        check_removal(course, cohort, user, model.get("groups") or [])
        try:
            await hub.call("PATCH", f"/shares/{q(cohort.account)}/", {"user": user})
        except HubCallError as e:
            if e.status != 404:  # 404: the account has no server, so no shares
                raise hub_refused(e, f"revoke {user}'s access to {cohort.account}") from None
        try:
            await hub.call("DELETE", f"/groups/{q(cohort.group)}/users", {"users": [user]})
        except HubCallError as e:
            raise hub_refused(e, f"remove {user} from {cohort.group}") from None
        from .teams import drop_from_teams  # teams builds on this module

        await drop_from_teams(hub, cohort, user)  # a team's members are the cohort's
        synced = await _sync(hub, course, name)
    await rotate_credentials(hub, cohort.account)
    return synced


async def rotate_credentials(hub: HubClient, account: str) -> bool:
    """Stop the workspace's server after someone lost access; True once it is stopped.

    What a removed member may still hold is whatever their code could reach while they
    were in: anything the account's server knew. Stopping it ends every kernel and
    terminal (and all they started: ``workspace_server.sandbox``), and the hub revokes the
    server's API token and OAuth client when it stops; the next open starts a server with
    new ones. The member's own browser session for the workspace is refused by the hub
    once their share is gone, within the server's identity cache time
    (``cohorts.hubhooks.WORKSPACE_AUTH_CACHE``).
    """
    stopped = await stop_server(hub, account)
    log.info("Workspace %s stopped after a member lost access (credentials renewed)", account)
    return stopped


#: Called by :func:`archive` with the cohort (as it was before this archive) and whether it
#: was archived already, once nobody holds a share and before the server stops.
BeforeStop = Callable[[CohortState, bool], Awaitable[None]]


async def archive(
    hub: HubClient, course: str, name: str, before_stop: BeforeStop | None = None
) -> tuple[Synced, bool]:
    """Mark the cohort archived, remove every share, stop its server; delete nothing.

    Archived first, so nothing re-grants access meanwhile; every step is idempotent, so
    archiving again finishes an archive that failed half-way. ``before_stop`` (the
    snapshot, ``cohorts.snapshots``) runs after the shares are gone and before the server
    stops; if it raises, the server is left running for the next try. Returns whether the
    server had stopped when this answered.
    """
    cohort = await load_cohort(hub, course, name)
    async with hub.lock(cohort.group):
        cohort = await load_cohort(hub, course, name)
        await _set_properties(hub, cohort, archived=True)
        try:
            await hub.call("DELETE", f"/shares/{q(cohort.account)}/")
        except HubCallError as e:
            if e.status != 404:
                raise hub_refused(e, f"remove the shares of {cohort.account}") from None
        if before_stop is not None:
            await before_stop(cohort, cohort.archived)
        stopped = await stop_server(hub, cohort.account)
        return await _sync(hub, course, name), stopped


async def stop_server(hub: HubClient, account: str, wait: float = STOP_WAIT) -> bool:
    """Stop the account's server; True once it is stopped (False if still stopping)."""
    try:
        await hub.call("DELETE", f"/users/{q(account)}/server")
    except HubCallError as e:
        if e.status == 404:  # no such account: nothing runs
            return True
        raise hub_refused(e, f"stop {account}'s server") from None
    deadline = time.monotonic() + wait
    while True:
        model = await hub.find(f"/users/{q(account)}")
        if model is None or not (model.get("servers") or {}).get(""):
            return True
        if time.monotonic() > deadline:
            log.warning("%s's server is still stopping after %.0f s", account, wait)
            return False
        await asyncio.sleep(0.5)


__all__ = [
    "HubCallError",
    "HubClient",
    "Synced",
    "add_member",
    "archive",
    "create_cohort",
    "instructors",
    "list_cohorts",
    "load_cohort",
    "remove_member",
    "rotate_credentials",
    "shares",
    "sync",
]
